"""A small ASGI app served on a loopback port for as long as a command needs it: the OAuth
redirect while ``connection create`` waits for a sign-in, the callbacks while ``listen`` runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from connectorkit.errors import ConnectorkitError


@contextmanager
def serve_in_thread(app: Any, port: int, *, purpose: str, timeout: float = 10.0) -> Iterator[None]:
    """Serve ``app`` on 127.0.0.1:``port`` in a daemon thread until the block ends (waiting for
    the server to stop). A port that cannot be listened on is a one-line error naming ``--port``
    and ``purpose`` ("the OAuth redirect", "callbacks")."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"connectorkit-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        server.should_exit = True
        raise ConnectorkitError(f"--port {port}: cannot listen for {purpose} there (in use?); pick another")
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
