"""``Retry-After``: how long a service asks to be left alone (RFC 9110 section 10.2.3).

One reading for every place that honours it: the engine's retries, polling triggers and the
cloud clients."""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """The seconds a ``Retry-After`` value asks for: a number of seconds or an HTTP date (a date
    in the past is 0). None when the header is absent or neither form."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now())
    except (TypeError, ValueError):
        return None
