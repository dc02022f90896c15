"""Dynamic-call rule errors on connectors Microsoft accepted anyway (see test_corpus_accuracy.py).

None so far: every error-severity dynamic-call rule is silent on the certified and independent
publisher connectors of the corpus. The mismatches they do contain (a ``value-collection`` or an
item path that the invoked operation's response schema does not define, an optional input
feeding a required lookup parameter) are reported as warnings.
"""

KNOWN: dict[tuple[str, str, str], str] = {}
