"""Cutting secrets out of text and JSON values (store/secrets.py), as history, the API, the
console and webhook subscriptions show them."""

from __future__ import annotations

from connectorkit.runtime.store.secrets import MASK, redact, redact_json, secret_strings


def test_every_wire_form_of_a_secret_is_cut() -> None:
    forms = secret_strings(["a b/c"])
    text = "raw a b/c, url a%20b%2Fc, form a+b%2Fc"
    assert redact(text, forms) == f"raw {MASK}, url {MASK}, form {MASK}"


def test_json_value_keeps_its_shape_when_a_string_secret_is_cut() -> None:
    forms = secret_strings(["s3cr3t"])
    value = {"token": "Bearer s3cr3t", "items": [1, "s3cr3t"], "clean": True}
    assert redact_json(value, forms) == {"token": f"Bearer {MASK}", "items": [1, MASK], "clean": True}


def test_json_value_without_secrets_is_returned_as_is() -> None:
    value = {"a": [1, 2]}
    assert redact_json(value, secret_strings(["zzz"])) is value


def test_a_numeric_secret_that_breaks_the_json_gives_the_redacted_text() -> None:
    # A PIN stored as a number: cutting it leaves text that is no longer JSON.
    forms = secret_strings([987654])
    shown = redact_json({"pin": 987654, "user": "x"}, forms)
    assert shown == f'{{"pin": {MASK}, "user": "x"}}'
    assert "987654" not in shown
