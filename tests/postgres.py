"""A throwaway PostgreSQL server for the store tests.

``CONNECTORKIT_TEST_POSTGRES_URL`` (a server the tests may create databases on) wins. Without it,
when Debian's PostgreSQL binaries are installed (``/usr/lib/postgresql/<version>/bin``), a private
cluster is created in a temporary directory and started on a free loopback port, once per test
session, and stopped when the session ends. PostgreSQL refuses to run as root, so as root the
cluster runs as the ``postgres`` user. Without binaries the PostgreSQL tests are skipped with the
reason. Each test gets a fresh database (:func:`fresh_database`), so tests never see each
other's rows.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

URL_ENV = "CONNECTORKIT_TEST_POSTGRES_URL"
BIN_ROOT = Path("/usr/lib/postgresql")
SUPERUSER = "connectorkit"
PREFIX = "connectorkit-pg-"

_lock = threading.Lock()
_server: _Cluster | str | None = None  # a started cluster, or why there is none


class PostgresUnavailable(Exception):
    """No server to test against; the message says why (it becomes the skip reason)."""


def find_binaries() -> Path | None:
    """The newest installed ``bin`` directory holding ``initdb`` and ``pg_ctl``."""
    if not BIN_ROOT.is_dir():
        return None
    found = [
        p / "bin" for p in BIN_ROOT.iterdir() if (p / "bin" / "initdb").exists() and (p / "bin" / "pg_ctl").exists()
    ]
    return max(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0) if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Cluster:
    """A cluster in a temporary directory, owned by the user PostgreSQL runs as."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.prefix: list[str] = []
        owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "running as root and there is no 'postgres' user to run PostgreSQL as"
                ) from None
            runuser = shutil.which("runuser")
            if runuser is None:
                raise PostgresUnavailable("running as root and runuser is missing")
            self.prefix = [runuser, "-u", "postgres", "--"]
        self.root = Path(tempfile.mkdtemp(prefix=PREFIX))
        (self.root / "owner.pid").write_text(str(os.getpid()))
        if owner is not None:
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.data = self.root / "data"
        self.port = _free_port()
        self.started = False

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.prefix, *args], capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"{Path(args[0]).name} failed ({done.returncode}): {(done.stderr or done.stdout)[-2000:]}"
            )

    def start(self) -> None:
        self._run(
            str(self.binaries / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
            "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C",
        )  # fmt: skip
        # fsync off and a small footprint: the cluster is thrown away when the session ends.
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -F -c max_connections=60 -c shared_buffers=16MB"
        self._run(
            str(self.binaries / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.root / "server.log"), "-w", "-t", "60", "start",
        )  # fmt: skip
        self.started = True

    def stop(self) -> None:
        try:
            if self.started:
                self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/postgres"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_abandoned(binaries: Path, prefix: list[str]) -> None:
    """Stop and remove clusters whose test session was killed before it could stop them."""
    for root in Path(tempfile.gettempdir()).glob(PREFIX + "*"):
        try:
            owner = int((root / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        if (root / "data" / "postmaster.pid").exists():
            subprocess.run(
                [*prefix, str(binaries / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


def server_url() -> str:
    """The URL of a server to create test databases on; raises :class:`PostgresUnavailable`."""
    global _server
    given = os.environ.get(URL_ENV)
    if given:
        return given
    with _lock:
        if _server is None:
            binaries = find_binaries()
            if binaries is None:
                _server = f"PostgreSQL binaries not found under {BIN_ROOT}; install postgresql or set {URL_ENV}"
            else:
                try:
                    cluster = _Cluster(binaries)
                except PostgresUnavailable as why:
                    _server = str(why)
                else:
                    sweep_abandoned(binaries, cluster.prefix)
                    atexit.register(cluster.stop)
                    cluster.start()  # a failure here is a real problem: let it fail the test loudly
                    _server = cluster
        if isinstance(_server, str):
            raise PostgresUnavailable(_server)
        return _server.url


def _driver_url(url: str) -> str:
    """The URL with the psycopg 3 driver when it names none (``postgresql://`` means psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new empty database on the server, dropped afterwards; skips the test without a server."""
    try:
        base = _driver_url(server_url())
    except PostgresUnavailable as why:
        pytest.skip(str(why))
    name = f"ck_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(base).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database URL (``postgresql+psycopg://``) for one test."""
    with fresh_database() as url:
        yield url
