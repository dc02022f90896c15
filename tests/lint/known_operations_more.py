"""Errors of the Operations (part 2) and Webhooks rules on connectors Microsoft accepted anyway
(see test_corpus_accuracy.py)."""

KNOWN: dict[tuple[str, str, str], str] = {}
