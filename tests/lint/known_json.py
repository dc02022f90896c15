"""Syntax errors in files Microsoft accepted anyway (see test_corpus_accuracy.py)."""

KNOWN: dict[tuple[str, str, str], str] = {
    ("independent-publisher-connectors/Icon Horse", "JsonNotParseable", ""): (
        "a parameter object is opened where a property name belongs (line 56): the file is not JSON; "
        "Microsoft's pipeline posts the raw text to its validator, which evidently tolerated it"
    ),
}
