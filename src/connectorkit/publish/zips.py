"""Zips that connectorkit writes (deterministic) and zips it reads (untrusted, so read defensively).

Writing: the same entries always give the same bytes, whatever the machine's clock, time zone or umask,
so a package can be rebuilt and compared, and ``pack -> unpack -> pack`` is byte-identical. Entries are
written ``[Content_Types].xml`` first (Open Packaging readers look for it early) and then sorted by name
(code point order); every entry gets the DOS epoch 1980-01-01 00:00:00 as its time, Unix mode 0644,
"made by" Unix, DEFLATE at level 6, no extra fields and no comment. Output is written atomically: a
temporary file next to the target, then a rename, so a failure never leaves half a zip behind; missing
parent folders are created (and removed again if the write fails), as for every output of ``package``.

Reading: :func:`open_zip` checks the whole central directory before a single byte is inflated and
refuses, with one line naming the zip and the entry, anything that could escape a target folder
(``..``, absolute paths, drive letters, backslashes, colons), links and device entries, duplicate names
(also ones that differ only in case, which would overwrite each other on Windows and macOS), encrypted
or exotically compressed entries, and zip bombs: too many entries, a total unpacked size over the cap,
or an entry that inflates more than :attr:`ZipLimits.max_ratio` times. Entries are then inflated by
this module (not by :mod:`zipfile`'s reader) so that an entry whose data inflates to more than its
header declares is stopped as soon as it passes that size, and a CRC mismatch is an error.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import BinaryIO

from connectorkit.errors import InputError

CONTENT_TYPES = "[Content_Types].xml"
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
DEFLATE_LEVEL = 6

_CHUNK = 64 * 1024
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_MADE_BY_UNIX = 3


@dataclass(frozen=True)
class ZipLimits:
    """Caps for reading an untrusted zip. The defaults leave ample room for connector packages (a large
    connector's solution is a few MB) while refusing archives built to exhaust disk or memory."""

    max_entries: int = 10_000
    """At most this many entries (files and folders) in the central directory."""
    max_total_size: int = 256 * 1024 * 1024
    """At most this many bytes once every entry is inflated (256 MiB)."""
    max_ratio: float = 100.0
    """No entry may inflate to more than this many times its compressed size..."""
    ratio_min_size: int = 1024 * 1024
    """...unless it inflates to at most this many bytes (1 MiB): small, repetitive text compresses very well."""


DEFAULT_LIMITS = ZipLimits()


# writing


def _check_entry_name(name: str) -> None:
    """A name we write must be one our own reader accepts: relative, forward slashes, no ``..``."""
    problem = _name_problem(name)
    if problem:
        raise ValueError(f"zip entry {name!r}: {problem}")


def _ordered(entries: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    items = list(entries)
    seen: set[str] = set()
    for name, _ in items:
        _check_entry_name(name)
        if name in seen:
            raise ValueError(f"zip entry {name!r} given twice")
        seen.add(name)
    return sorted(items, key=lambda item: (item[0] != CONTENT_TYPES, item[0]))


def _entry_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = _MADE_BY_UNIX
    info.external_attr = FILE_MODE << 16
    return info


def zip_bytes(entries: Iterable[tuple[str, bytes]]) -> bytes:
    """A deterministic zip of ``(name, data)`` pairs, in memory (for zips nested in other zips).

    Raises ValueError for a name that is absolute, contains ``..``/backslashes, or is given twice:
    those are programming errors, not user input."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=DEFLATE_LEVEL) as archive:
        for name, data in _ordered(entries):
            archive.writestr(_entry_info(name), data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=DEFLATE_LEVEL)
    return buffer.getvalue()


def make_parents(folder: Path, what: str) -> list[Path]:
    """Create ``folder`` and its missing parents, as every ``--output`` of ``package`` does; returns the
    folders created (deepest first) so that a failed write can remove them again. ``what`` names the
    output in the error when a parent is a file or cannot be created."""
    created: list[Path] = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        created.append(probe)
        probe = probe.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        remove_folders(created)
        raise InputError(f"{what}: cannot create folder {folder}: {exc.strerror}") from None
    return created


def remove_folders(created: list[Path]) -> None:
    """Undo :func:`make_parents` (folders that are still empty only)."""
    for folder in created:
        try:
            folder.rmdir()
        except OSError:
            return


def write_file_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename: readers see
    the old file or the new one, never a partial one. Missing parent folders are created (and removed
    again when the write fails). An unwritable target is an InputError."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"{path}: is a folder")
    created = make_parents(folder, str(path))
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        remove_folders(created)
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, path)
    except OSError as exc:
        Path(temp_name).unlink(missing_ok=True)
        remove_folders(created)
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        remove_folders(created)
        raise


def write_zip(path: Path, entries: Iterable[tuple[str, bytes]]) -> None:
    """Write a deterministic zip (see :func:`zip_bytes`) to ``path`` atomically."""
    write_file_atomic(Path(path), zip_bytes(entries))


# reading


def _name_problem(name: str) -> str | None:
    """Why ``name`` cannot be unpacked safely into a folder on any platform, or None."""
    if not name or name in {"/", "."}:
        return "empty name"
    if any(ord(char) < 32 for char in name):
        return "control character in the name"
    if "\\" in name:
        return "backslash in the name (a Windows path separator)"
    if name.startswith("/"):
        return "absolute path"
    if ":" in name:
        return "drive letter or colon in the name"
    parts = name.rstrip("/").split("/")
    if any(part == ".." for part in parts):
        return "a '..' segment"
    if any(part in {"", "."} for part in parts):
        return "empty or '.' path segment"
    return None


def _is_dir(info: zipfile.ZipInfo) -> bool:
    return info.filename.endswith("/")


def _mode_problem(info: zipfile.ZipInfo) -> str | None:
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == 0 or kind == stat.S_IFREG or (kind == stat.S_IFDIR and _is_dir(info)):
        return None
    if kind == stat.S_IFLNK:
        return "symbolic link"
    return "not a regular file or folder"


def _human(size: int) -> str:
    return f"{size // 2**20} MB" if size >= 2**20 and size % 2**20 == 0 else f"{size} bytes"


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why an entry cannot be unpacked as a plain file or folder, sizes apart."""
    problem = _mode_problem(info)
    if problem or _is_dir(info):
        return problem
    if info.flag_bits & 0x1:
        return "encrypted"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return f"unsupported compression method {info.compress_type}"
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        return "stored entry whose sizes disagree"
    return None


def _ratio_problem(info: zipfile.ZipInfo, limits: ZipLimits) -> str | None:
    if info.file_size > limits.ratio_min_size and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        ratio = info.file_size / max(info.compress_size, 1)
        return f"compression ratio {ratio:.0f}:1 is over the {limits.max_ratio:.0f}:1 limit (zip bomb?)"
    return None


class SafeZip:
    """An untrusted zip whose directory has been checked; entries are inflated with the caps enforced.

    Use :func:`open_zip` to make one; it is a context manager (closes the file it opened)."""

    def __init__(self, stream: BinaryIO, source: str, limits: ZipLimits, owns_stream: bool) -> None:
        self.source = source
        self.limits = limits
        self._stream = stream
        self._owns_stream = owns_stream
        try:
            archive = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            self.close()
            raise InputError(f"{source}: not a zip file ({exc})") from None
        self._infos = archive.infolist()
        try:
            self._files = self._check(self._infos)
        except InputError:
            self.close()
            raise

    def _fail(self, name: str, problem: str) -> InputError:
        return InputError(f"{self.source}: entry {name!r}: {problem}")

    def _check(self, infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
        """Names and kinds first, then the total size, then each entry's ratio: the first refusal wins."""
        limits = self.limits
        if len(infos) > limits.max_entries:
            raise InputError(f"{self.source}: {len(infos)} entries, over the limit of {limits.max_entries}")
        files: dict[str, zipfile.ZipInfo] = {}
        folded: dict[str, str] = {}
        for info in infos:
            name = info.filename
            problem = _name_problem(name)
            if problem:
                raise InputError(
                    f"{self.source}: entry {name!r} is not a relative path inside the target folder ({problem})"
                )
            problem = _entry_problem(info)
            if problem:
                raise self._fail(name, problem)
            key = name.rstrip("/").casefold()
            if key in folded:
                other = folded[key]
                same = other.rstrip("/") == name.rstrip("/")
                raise self._fail(name, "duplicate name" if same else f"same name as {other!r} but for case")
            folded[key] = name
            if not _is_dir(info):
                files[name] = info
        file_keys = {name.casefold() for name in files}
        for name in files:
            for parent in PurePosixPath(name).parents:
                if str(parent).casefold() in file_keys:
                    raise self._fail(name, f"its folder {str(parent)!r} is also a file")
        total = sum(info.file_size for info in files.values())
        if total > limits.max_total_size:
            raise InputError(
                f"{self.source}: the unpacked files are larger than {_human(limits.max_total_size)} "
                f"({total} bytes; zip bomb?)"
            )
        for info in files.values():
            problem = _ratio_problem(info, limits)
            if problem:
                raise self._fail(info.filename, problem)
        return files

    # public view

    def names(self) -> list[str]:
        """The file entries (not folder entries), in archive order."""
        return list(self._files)

    def folders(self) -> set[str]:
        """Every folder the zip would create on unpacking (explicit folder entries and parents of files),
        without trailing slashes."""
        result = {info.filename.rstrip("/") for info in self._infos if _is_dir(info)}
        for name in self._files:
            result.update(str(parent) for parent in PurePosixPath(name).parents if str(parent) != ".")
        return result

    def __contains__(self, name: object) -> bool:
        return name in self._files

    def size(self, name: str) -> int:
        """The declared unpacked size of a file entry."""
        return self._info(name).file_size

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = self._files.get(name)
        if info is None:
            raise InputError(f"{self.source}: no entry {name!r}")
        return info

    def read(self, name: str) -> bytes:
        """An entry's bytes, inflated here with its declared size as a hard cap and its CRC checked."""
        return b"".join(self._chunks(self._info(name)))

    def _chunks(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        name = info.filename
        raw = self._raw(info)
        produced = 0
        crc = 0
        if info.compress_type == zipfile.ZIP_STORED:
            pieces: Iterable[bytes] = raw
        else:
            pieces = self._inflate(info, raw)
        for piece in pieces:
            produced += len(piece)
            if produced > info.file_size:
                raise self._fail(name, f"inflates to more than the {info.file_size} bytes its header declares")
            crc = zlib.crc32(piece, crc)
            yield piece
        if produced != info.file_size:
            raise self._fail(name, f"inflates to {produced} bytes, its header declares {info.file_size}")
        if crc != info.CRC:
            raise self._fail(name, "CRC mismatch (corrupt entry)")

    def _inflate(self, info: zipfile.ZipInfo, raw: Iterator[bytes]) -> Iterator[bytes]:
        """Raw DEFLATE to bytes, never asking zlib for more than one byte past the declared size."""
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        produced = 0
        try:
            for chunk in raw:
                data = chunk
                while data and not inflater.eof:
                    piece = inflater.decompress(data, info.file_size - produced + 1)
                    produced += len(piece)
                    yield piece
                    data = inflater.unconsumed_tail
            while not inflater.eof:
                piece = inflater.decompress(b"", info.file_size - produced + 1)
                if not piece:
                    break
                produced += len(piece)
                yield piece
        except zlib.error as exc:
            raise self._fail(info.filename, f"corrupt compressed data ({exc})") from None
        if not inflater.eof:
            raise self._fail(info.filename, "compressed data ends early (truncated entry)")

    def _raw(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The entry's compressed bytes, located through its local header (checked against the directory)."""
        stream = self._stream
        stream.seek(info.header_offset)
        header = stream.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
            raise self._fail(info.filename, "bad local header (corrupt zip)")
        fields = _LOCAL_HEADER.unpack(header)
        name_length, extra_length = fields[10], fields[11]
        local_name = stream.read(name_length)
        encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
        if local_name.decode(encoding, "replace") != info.orig_filename:
            raise self._fail(info.filename, "local header names a different file (corrupt or crafted zip)")
        stream.seek(extra_length, io.SEEK_CUR)
        left = info.compress_size
        while left > 0:
            chunk = stream.read(min(_CHUNK, left))
            if not chunk:
                raise self._fail(info.filename, "zip ends inside the entry (truncated)")
            left -= len(chunk)
            yield chunk

    def extract_to(self, folder: Path) -> Path:
        """Unpack every entry under ``folder``, all or nothing: into a temporary sibling folder first, then
        renamed. ``folder`` must not exist or be an empty folder; on any refusal nothing is left behind."""
        folder = Path(folder)
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise InputError(f"{folder}: already exists and is not an empty folder")
        parent = folder.parent
        if not parent.is_dir():
            raise InputError(f"{folder}: parent folder {parent} does not exist")
        temp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=parent))
        try:
            for name in sorted(self.folders()):
                (temp / name).mkdir(parents=True, exist_ok=True)
            for name, info in self._files.items():
                target = temp / name
                with target.open("wb") as stream:
                    for piece in self._chunks(info):
                        stream.write(piece)
                target.chmod(0o644)
            temp.chmod(0o755)
            if folder.exists():
                folder.rmdir()
            temp.rename(folder)
        except OSError as exc:
            shutil.rmtree(temp, ignore_errors=True)
            raise InputError(f"{folder}: cannot unpack {self.source}: {exc.strerror or exc}") from None
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        return folder

    def close(self) -> None:
        if self._owns_stream:
            self._stream.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def open_zip(data: Path | bytes, *, source: str, limits: ZipLimits | None = None) -> SafeZip:
    """Open an untrusted zip (a file or bytes) for reading; ``source`` names it in every error message.

    Every entry is checked before anything is inflated (see the module docstring); a refusal is an
    :class:`InputError` naming the zip and the entry."""
    limits = limits or DEFAULT_LIMITS
    if isinstance(data, bytes | bytearray | memoryview):
        return SafeZip(io.BytesIO(bytes(data)), source, limits, owns_stream=True)
    path = Path(data)
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise InputError(f"{source}: cannot read: {exc.strerror}") from None
    return SafeZip(stream, source, limits, owns_stream=True)
