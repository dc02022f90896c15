"""Deterministic zip writing and defensive zip reading (``connectorkit.publish.zips``).

Malicious zips are crafted here with :mod:`zipfile` and by patching header bytes, the way an attacker
would build them; every refusal must happen without anything written to disk."""

from __future__ import annotations

import io
import os
import stat
import struct
import time
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectorkit.errors import InputError
from connectorkit.publish.zips import (
    CONTENT_TYPES,
    DEFAULT_LIMITS,
    ZipLimits,
    open_zip,
    write_zip,
    zip_bytes,
)

from conftest import ROOT

ENTRIES = [
    ("b/second.json", b'{"b": 2}'),
    ("a.txt", "non-ASCII: Météo 日本".encode()),
    (CONTENT_TYPES, b"<Types/>"),
    ("Connector/x_iconblob.Png", os.urandom(3000)),
    ("empty", b""),
]


def _crafted(entries: list[tuple[zipfile.ZipInfo | str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip holding exactly these entries, names and attributes untouched (as an attacker writes them)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names warn
        with zipfile.ZipFile(buffer, "w", method) as archive:
            for info, data in entries:
                archive.writestr(info, data)
    return buffer.getvalue()


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# writing


def test_same_entries_give_identical_bytes_whatever_the_order_clock_and_umask() -> None:
    first = zip_bytes(ENTRIES)
    old_tz, old_umask = os.environ.get("TZ"), os.umask(0o077)
    try:
        os.environ["TZ"] = "Pacific/Kiritimati"
        time.tzset()
        time.sleep(1.1)  # a later second, too
        second = zip_bytes(list(reversed(ENTRIES)))
    finally:
        os.umask(old_umask)
        if old_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old_tz
        time.tzset()
    assert first == second
    assert zip_bytes(ENTRIES[:-1]) != first


def test_written_entries_are_ordered_dated_and_permissioned_fixedly() -> None:
    with zipfile.ZipFile(io.BytesIO(zip_bytes(ENTRIES))) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == [CONTENT_TYPES, *sorted(n for n, _ in ENTRIES if n != CONTENT_TYPES)]
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.external_attr >> 16 for i in infos} == {0o100644}
        assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
        assert {i.create_system for i in infos} == {3}
        assert all(i.extra == b"" for i in infos)
        assert archive.read("a.txt") == dict(ENTRIES)["a.txt"]


@pytest.mark.parametrize("name", ["../x", "/etc/x", "a\\b", "C:x", "a//b", ""])
def test_writer_refuses_names_its_reader_would_refuse(name: str) -> None:
    with pytest.raises(ValueError, match="zip entry"):
        zip_bytes([(name, b"x")])


def test_writer_refuses_a_name_given_twice() -> None:
    with pytest.raises(ValueError, match="given twice"):
        zip_bytes([("a", b"1"), ("a", b"2")])


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out.zip"
    write_zip(target, ENTRIES)
    before = target.read_bytes()
    assert before == zip_bytes(ENTRIES)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644

    def failing() -> Iterator[tuple[str, bytes]]:
        yield "a", b"1"
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_zip(target, failing())
    assert target.read_bytes() == before
    assert _listing(tmp_path) == ["out.zip"]


def test_write_creates_missing_parent_folders_and_removes_them_on_failure(tmp_path: Path) -> None:
    """Every ``package ... -o`` creates missing folders (as unpack and submission do); a failed write leaves
    neither a partial file nor the folders it created."""
    deep = tmp_path / "a" / "b" / "c" / "x.zip"
    write_zip(deep, ENTRIES)
    assert deep.read_bytes() == zip_bytes(ENTRIES)

    def failing() -> Iterator[tuple[str, bytes]]:
        yield "a", b"1"
        raise RuntimeError("disk on fire")

    (tmp_path / "keep").mkdir()
    with pytest.raises(RuntimeError):
        write_zip(tmp_path / "keep" / "new" / "deeper" / "x.zip", failing())
    assert not (tmp_path / "keep" / "new").exists() and (tmp_path / "keep").is_dir()
    (tmp_path / "file").write_text("a file, not a folder")
    with pytest.raises(InputError, match=r"file/sub/x\.zip: cannot create folder .*file/sub"):
        write_zip(tmp_path / "file" / "sub" / "x.zip", ENTRIES)


# reading what we wrote


def test_reads_back_and_extracts_what_it_wrote(tmp_path: Path) -> None:
    with open_zip(zip_bytes(ENTRIES), source="good.zip") as archive:
        assert sorted(archive.names()) == sorted(n for n, _ in ENTRIES)
        assert archive.folders() == {"b", "Connector"}
        assert archive.read("Connector/x_iconblob.Png") == dict(ENTRIES)["Connector/x_iconblob.Png"]
        assert "a.txt" in archive and "nope" not in archive
        with pytest.raises(InputError, match=r"good\.zip: no entry 'nope'"):
            archive.read("nope")
        target = archive.extract_to(tmp_path / "out")
    assert {str(p.relative_to(target)): p.read_bytes() for p in target.rglob("*") if p.is_file()} == dict(ENTRIES)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left behind


def test_extracts_into_an_empty_folder_but_not_a_full_one(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep").write_text("mine")
    archive = open_zip(zip_bytes(ENTRIES), source="good.zip")
    archive.extract_to(tmp_path / "empty")
    assert (tmp_path / "empty" / "a.txt").is_file()
    with pytest.raises(InputError, match="not an empty folder"):
        archive.extract_to(tmp_path / "full")
    assert _listing(tmp_path / "full") == ["keep"]


def test_reads_from_a_file_too(tmp_path: Path) -> None:
    write_zip(tmp_path / "a.zip", ENTRIES)
    with open_zip(tmp_path / "a.zip", source="a.zip") as archive:
        assert archive.read("b/second.json") == b'{"b": 2}'
    with pytest.raises(InputError, match=r"nope\.zip: cannot read"):
        open_zip(tmp_path / "nope.zip", source="nope.zip")


# refusals


def _refused(data: bytes, tmp_path: Path, match: str, limits: ZipLimits | None = None) -> None:
    """``data`` is refused with ``match`` whether opened or extracted, and nothing is written."""
    with pytest.raises(InputError, match=match) as caught, open_zip(data, source="evil.zip", limits=limits) as zipped:
        zipped.extract_to(tmp_path / "out")
    assert str(caught.value).startswith("evil.zip: ")
    assert "\n" not in str(caught.value)
    assert _listing(tmp_path) == []


def _symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../x", r"'\.\.' segment"),
        ("a/../../x", r"'\.\.' segment"),
        ("a/..", r"'\.\.' segment"),
        ("/etc/x", "absolute path"),
        ("C:\\x", "backslash"),
        ("C:/x", "drive letter"),
        ("\\\\server\\share\\x", "backslash"),
        ("a\\..\\..\\x", "backslash"),
        ("a//b", "empty or '.' path segment"),
        ("./a", "empty or '.' path segment"),
        ("a\x01b", "control character"),
    ],
)
def test_refuses_paths_that_could_leave_the_folder(name: str, why: str, tmp_path: Path) -> None:
    _refused(_crafted([("ok.txt", b"fine"), (name, b"payload")]), tmp_path, f"is not a relative path.*{why}")


def test_refuses_symlinks_and_special_files(tmp_path: Path) -> None:
    _refused(_crafted([(_symlink("link"), b"/etc/passwd")]), tmp_path, "entry 'link': symbolic link")
    fifo = zipfile.ZipInfo("pipe")
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    _refused(_crafted([(fifo, b"")]), tmp_path, "not a regular file or folder")


def test_refuses_duplicates_including_case_and_file_folder_clashes(tmp_path: Path) -> None:
    _refused(_crafted([("a.txt", b"1"), ("a.txt", b"2")]), tmp_path, "entry 'a.txt': duplicate name")
    _refused(_crafted([("A.txt", b"1"), ("a.txt", b"2")]), tmp_path, "same name as 'A.txt' but for case")
    _refused(_crafted([("a", b"1"), ("a/b", b"2")]), tmp_path, "its folder 'a' is also a file")


def test_refuses_too_many_entries(tmp_path: Path) -> None:
    data = zip_bytes((f"f{i}", b"x") for i in range(6))
    _refused(data, tmp_path, "6 entries, over the limit of 5", ZipLimits(max_entries=5))
    with open_zip(data, source="ok.zip", limits=ZipLimits(max_entries=6)) as archive:
        assert len(archive.names()) == 6


def test_refuses_a_total_size_over_the_cap(tmp_path: Path) -> None:
    data = zip_bytes([("a", os.urandom(600)), ("b", os.urandom(600))])
    _refused(data, tmp_path, "unpacked files are larger than 1000 bytes", ZipLimits(max_total_size=1000))


def test_refuses_a_real_zip_bomb_by_ratio_before_inflating_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = _crafted([("zeros.bin", bytes(50 * 2**20))])
    assert len(bomb) < 100_000
    assert DEFAULT_LIMITS.max_total_size > 50 * 2**20  # so it is the ratio that refuses it

    def no_inflating(*args: object, **kwargs: object) -> None:
        raise AssertionError("inflated before refusing")

    monkeypatch.setattr("connectorkit.publish.zips.zlib.decompressobj", no_inflating)
    _refused(bomb, tmp_path, r"entry 'zeros.bin': compression ratio \d+:1 is over the 100:1 limit")


def test_small_very_compressible_entries_are_fine() -> None:
    text = b"a" * (512 * 1024)  # ratio ~500:1 but under ratio_min_size
    with open_zip(zip_bytes([("a.json", text)]), source="ok.zip") as archive:
        assert archive.read("a.json") == text


def _patch_sizes(data: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size in the (only) entry's local and central headers."""
    patched = bytearray(data)
    local = patched.index(b"PK\x03\x04")
    central = patched.index(b"PK\x01\x02")
    patched[local + 22 : local + 26] = struct.pack("<L", size)
    patched[central + 24 : central + 28] = struct.pack("<L", size)
    return bytes(patched)


def test_header_that_understates_the_size_is_caught_while_inflating(tmp_path: Path) -> None:
    liar = _patch_sizes(_crafted([("big.bin", bytes(900 * 1024))]), 1000)
    with zipfile.ZipFile(io.BytesIO(liar)) as plain:
        assert plain.getinfo("big.bin").file_size == 1000  # the directory check alone would pass it
    declared = "inflates to more than the 1000 bytes its header declares"
    with open_zip(liar, source="evil.zip") as archive, pytest.raises(InputError, match=declared):
        archive.read("big.bin")
    _refused(liar, tmp_path, "its header declares")


def test_header_that_overstates_the_size_is_an_error(tmp_path: Path) -> None:
    liar = _patch_sizes(_crafted([("a.bin", b"abc" * 100)]), 5000)
    _refused(liar, tmp_path, "inflates to 300 bytes, its header declares 5000")


def test_crc_mismatch_and_truncated_and_not_a_zip(tmp_path: Path) -> None:
    stored = bytearray(_crafted([("a.txt", b"hello world")], method=zipfile.ZIP_STORED))
    at = stored.index(b"hello world")
    stored[at] = ord("j")
    _refused(bytes(stored), tmp_path, "entry 'a.txt': CRC mismatch")
    _refused(b"PK\x03\x04 not a zip", tmp_path, "evil.zip: not a zip file")


def test_refuses_encrypted_and_exotic_entries(tmp_path: Path) -> None:
    data = bytearray(_crafted([("a.txt", b"x" * 50)]))
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x1  # "encrypted" flag in the directory
    _refused(bytes(data), tmp_path, "entry 'a.txt': encrypted")
    bz = _crafted([("b.txt", b"y" * 50)], method=zipfile.ZIP_BZIP2)
    _refused(bz, tmp_path, "unsupported compression method 12")


def test_every_zip_opened_in_src_goes_through_open_zip() -> None:
    """The sweep: only the safe-zip module may use :mod:`zipfile` directly."""
    users = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "src").rglob("*.py")
        if "zipfile" in p.read_text(encoding="utf-8") and p.name != "zips.py"
    )
    assert users == []
