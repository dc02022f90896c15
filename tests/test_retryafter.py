"""Reading Retry-After: seconds or an HTTP date."""

from __future__ import annotations

from connectorkit.retryafter import retry_after_seconds

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def test_seconds_and_dates() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("-3") == 0.0
    assert retry_after_seconds("Tue, 14 Nov 2023 22:13:50 GMT", now=lambda: NOW) == 30.0
    assert retry_after_seconds("Tue, 14 Nov 2023 22:00:00 GMT", now=lambda: NOW) == 0.0  # already past


def test_absent_or_unreadable_is_none() -> None:
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("") is None
