"""npm tools the tests and benchmarks drive (Prism, oauth2-mock-server, ...), installed on first
use into ``.cache/node`` under a file lock, so parallel runs never install into the same folder at
once. Callers skip with the returned reason when npm or the registry is unavailable."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / ".cache" / "node"


class NodeToolMissing(RuntimeError):
    """npm, node or the package could not be had; the message says why."""


def npm_package(spec: str, module: str) -> Path:
    """The installed folder of npm package ``module`` (``spec`` is what to install, such as
    ``oauth2-mock-server@7.2.0``); installs it on first use. Raises :class:`NodeToolMissing`."""
    folder = NODE_DIR / "node_modules" / module
    if folder.is_dir():
        return folder
    npm = shutil.which("npm")
    if npm is None:
        raise NodeToolMissing(f"npm is not installed; cannot install {spec}")
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    with (NODE_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if folder.is_dir():
            return folder
        done = subprocess.run(
            [npm, "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--silent", spec],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if done.returncode != 0 or not folder.is_dir():
            raise NodeToolMissing(f"could not install {spec}: {done.stderr.strip()[:300]}")
    return folder


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        raise NodeToolMissing("node is not installed")
    return node
