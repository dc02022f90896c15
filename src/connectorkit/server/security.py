"""Who may use the server: the API token, one-time console login codes and console sessions.

The management API takes a bearer token kept in a file beside the store's key file (mode 0600,
created on first start). The console never shows or asks for that token by default: ``serve``
prints a URL with a one-time login code instead, which a browser trades for a session cookie
(HttpOnly, SameSite=Strict). Each session carries its own CSRF token, which every console form
and every cookie-authenticated API call must send back.
"""

from __future__ import annotations

import hmac
import os
import secrets
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from connectorkit.errors import InputError

TOKEN_FILE_NAME = "server-token"
LOGIN_CODE_SECONDS = 600.0
SESSION_SECONDS = 12 * 3600.0
SESSION_COOKIE = "connectorkit_session"
LOGIN_CSRF_COOKIE = "connectorkit_login_csrf"
CSRF_HEADER = "X-CSRF-Token"


def same(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so response timing tells nothing about how much of a token matched."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def load_token(path: Path) -> str:
    """The API token in ``path``, created (32 random bytes, URL-safe) with mode 0600 on first use.

    A token file that group or others may read is refused, like the store's key file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as error:
        raise InputError(f"--token-file {path}: cannot create: {error.strerror}") from None
    else:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
    if os.name == "posix":
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise InputError(f"--token-file {path}: readable by others (mode {mode:o}); run `chmod 600 {path}`")
    try:
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"--token-file {path}: cannot read: {error}") from None
    if len(token) < 16:
        raise InputError(f"--token-file {path}: the token must be at least 16 characters")
    return token


@dataclass
class Session:
    csrf: str
    expires: float


class Gate:
    """One-time login codes and console sessions, in memory (a restart logs everyone out)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._codes: dict[str, float] = {}
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def issue_code(self) -> str:
        """A new login code, valid once within ten minutes."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = self._clock() + LOGIN_CODE_SECONDS
        return code

    def redeem_code(self, code: str) -> bool:
        """True once for a known, unexpired code; the code is gone afterwards either way."""
        now = self._clock()
        with self._lock:
            self._codes = {c: t for c, t in self._codes.items() if t > now}
            found = next((c for c in self._codes if same(code, c)), None)
            if found is None:
                return False
            del self._codes[found]
            return True

    def open_session(self) -> tuple[str, Session]:
        session_id = secrets.token_urlsafe(32)
        session = Session(csrf=secrets.token_urlsafe(24), expires=self._clock() + SESSION_SECONDS)
        with self._lock:
            self._sessions[session_id] = session
        return session_id, session

    def session(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        now = self._clock()
        with self._lock:
            found = self._sessions.get(session_id)
            if found is not None and found.expires <= now:
                del self._sessions[session_id]
                return None
            return found

    def close_session(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)
