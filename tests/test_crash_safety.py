"""A process killed (SIGKILL) while it writes to the store loses nothing it reported as stored:
every connection whose id it printed opens with its secrets, every connector version it printed
loads completely, and SQLite's own integrity check passes."""

from __future__ import annotations

import base64
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from connectorkit.definition.package import ConnectorPackage
from connectorkit.runtime.store import Store

KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()

WRITER = textwrap.dedent(
    """
    import sys
    from connectorkit.runtime.store import Store

    store = Store(sys.argv[1], key=sys.argv[2])
    files = {"apiDefinition.swagger.json": b'{"swagger": "2.0", "info": {"title": "T", "version": "1"}, "paths": {}}'}
    i = 0
    while True:
        i += 1
        connection = store.create_connection("T", {"host": f"h{i}", "api_key": f"secret-{i}"}, {"api_key"})
        print("connection", connection, i, flush=True)
        payload = dict(files, **{"readme.md": (f"version {i} " * 2000).encode()})
        version = store.save_connector("T", payload)
        print("version", version, i, flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("after", [5, 40])
def test_sigkill_while_writing_loses_nothing_reported(tmp_path: Path, after: int) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, url, KEY],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert process.stdout is not None
    reported: list[list[str]] = []
    while len(reported) < after:
        line = process.stdout.readline()
        assert line, "the writer stopped early"
        reported.append(line.split())
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    with sqlite3.connect(tmp_path / "store.db") as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    store = Store(url, key=KEY)
    try:
        for kind, ident, counter in reported:
            if kind == "connection":
                connection = store.get_connection(ident)
                assert connection.parameters == {"host": f"h{counter}", "api_key": f"secret-{counter}"}
            else:
                stored = store.get_connector("T", int(ident))
                assert stored.files["readme.md"] == (f"version {counter} " * 2000).encode()
                ConnectorPackage.from_files(stored.files)  # every file is there and readable
        # Whatever was committed after the last report is whole too.
        for summary in store.list_connections("T"):
            assert store.get_connection(summary.id).parameters["api_key"].startswith("secret-")
        for version in store.connector_versions("T"):
            assert b"version" in store.get_connector("T", version).files["readme.md"]
    finally:
        store.close()
