"""Schema-rule errors on connectors Microsoft accepted anyway (see test_corpus_accuracy.py).

None so far: with the certified profile the schema property and validation keyword rules report
no error on the certified and independent-publisher connectors of the corpus.
"""

KNOWN: dict[tuple[str, str, str], str] = {}
