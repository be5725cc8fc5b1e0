"""Reading untrusted ZIP archives, member by member, within caps.

``open_archive`` checks an archive before anything is decompressed and refuses it whole
(``ArchiveRejected``, a 422 at the field that carried it) when

- it is not a ZIP archive, or its end-of-central-directory record is damaged;
- it declares more members than ``max_members`` (read from the end record, before the central
  directory is parsed, so a directory of millions of entries is never loaded), or its central
  directory is larger than ``max_members`` entries can need;
- the sizes its members declare add up to more than ``max_total_bytes``, or the archive as a whole
  expands more than ``max_ratio`` times (a zip bomb);
- two members share compressed bytes (overlapping entries, the trick of non-recursive zip bombs).

``Archive.members()`` then yields, in directory order, a ``Member`` to read or a ``Skipped`` with the
reason, for each file (directories are left out):

- ``unsafe_path``: an absolute name, a drive letter, a ``..`` part, a NUL (zip slip);
- ``encrypted``, ``unsupported_compression``;
- ``too_large``: more than ``max_member_bytes`` once decompressed;
- ``compression_ratio``: a member that expands more than ``max_ratio`` times;
- ``nested_archive``: a ZIP, TAR, gzip, 7z, RAR ... by name (and, when read, by its first bytes);
- ``system_file``: the ``__MACOSX/`` folder and hidden files (``.DS_Store``).

``Member.read()`` decompresses at most the declared size (and never past the caps); a member whose
data do not match its header (CRC, length, a corrupt stream) raises ``MemberSkipped`` with the
reason ``corrupt``. A member's name is only ever a label: ``parts`` is its path split into
components, checked, for the caller to classify it; nothing here or in callers uses a member name as
a path on disk.
"""

import itertools
import lzma
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field

from rest_framework.exceptions import ErrorDetail

from apps.core.errors import InvalidInput

MIB = 1024 * 1024

#: Names of nested archives (compared with the lower-cased end of the member name).
ARCHIVE_SUFFIXES = (
    ".zip",
    ".tar",
    ".tgz",
    ".tbz",
    ".tbz2",
    ".txz",
    ".gz",
    ".bz2",
    ".xz",
    ".zst",
    ".lz",
    ".lzma",
    ".7z",
    ".rar",
    ".jar",
    ".cab",
    ".iso",
)
#: First bytes of archive and compressed formats.
ARCHIVE_MAGIC = (
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"PK\x07\x08",
    b"\x1f\x8b",  # gzip
    b"BZh",  # bzip2
    b"\xfd7zXZ\x00",  # xz
    b"7z\xbc\xaf\x27\x1c",  # 7z
    b"Rar!\x1a\x07",  # RAR
    b"\x28\xb5\x2f\xfd",  # zstandard
    b"MSCF",  # cabinet
)
_TAR_MAGIC_OFFSET = 257  # "ustar" at byte 257 of a tar header
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_LOCATOR_SIZE = 20
_ZIP64_EOCD = b"PK\x06\x06"
_MAX_COMMENT = 65535
#: The room a sane central-directory entry needs (fixed part, a long name, extra fields).
_DIRECTORY_ENTRY_ALLOWANCE = 1024
#: The size of a local file header without name and extra field.
_LOCAL_HEADER = 30
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_LABEL_MAX = 200
#: Members this small are never judged by their ratio (a run of zeros compresses 1000:1).
_RATIO_FLOOR = 64 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps of one use. ``max_ratio`` is the largest uncompressed / compressed size of a member,
    and of the archive as a whole."""

    max_members: int = 10_000
    max_total_bytes: int = 2 * 1024 * MIB
    max_member_bytes: int = 25 * MIB
    max_ratio: float = 100.0

    def __post_init__(self):
        if min(self.max_members, self.max_total_bytes, self.max_member_bytes) <= 0 or self.max_ratio < 1:
            raise ValueError("archive limits must be positive (and the ratio at least 1)")


class ArchiveRejected(InvalidInput):
    """The whole archive is refused (422 at ``field``). ``code`` says why: ``not_a_zip``,
    ``too_many_members``, ``too_large``, ``compression_ratio``, ``overlapping_members``."""

    default_message = "The archive cannot be read."
    code = "archive_rejected"

    def __init__(self, message: str, *, code: str, field=("file",)):
        loc = field if isinstance(field, tuple) else (field,)
        # ErrorDetail keeps the code, which the Sartiq dialect shows as the error's ``type``.
        super().__init__(message, errors={loc: [ErrorDetail(message, code=code)]}, code=code)


class MemberSkipped(Exception):
    """A member that cannot be used; ``code`` and ``reason`` say why."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Skipped:
    """A member left out, with the reason (for the caller's report)."""

    index: int
    name: str
    code: str
    reason: str

    def as_dict(self) -> dict:
        return {"file": self.name, "code": self.code, "reason": self.reason}


@dataclass
class Member:
    """A file of the archive that passed the checks; ``read()`` gives its bytes."""

    index: int
    name: str  # a printable label, never a path
    parts: tuple[str, ...]  # the checked path components (folders, then the file name)
    size: int
    compressed_size: int
    _archive: "Archive" = field(repr=False)
    _info: zipfile.ZipInfo = field(repr=False)

    @property
    def filename(self) -> str:
        return self.parts[-1]

    @property
    def folders(self) -> tuple[str, ...]:
        return self.parts[:-1]

    @property
    def stem(self) -> str:
        name = self.filename
        return name.rsplit(".", 1)[0] if "." in name[1:] else name

    @property
    def extension(self) -> str:
        name = self.filename
        return name.rsplit(".", 1)[1].lower() if "." in name[1:] else ""

    def read(self) -> bytes:
        return self._archive._read(self)


class Archive:
    """An open archive (see the module docstring). Use as a context manager or call ``close()``."""

    def __init__(self, source, *, limits: ArchiveLimits, field=("file",)):
        self.limits = limits
        self.field = field
        self._zip = _open_checked(source, limits, field)
        self._infos = self._zip.infolist()
        self.bytes_read = 0
        try:
            _check_directory(self._infos, limits, field)
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self._zip.close()

    @property
    def member_count(self) -> int:
        """Entries of the central directory, folders included."""
        return len(self._infos)

    @property
    def file_count(self) -> int:
        """Entries that are files (what ``members()`` yields a Member or a Skipped for)."""
        return sum(1 for info in self._infos if not info.is_dir())

    def members(self):
        """A ``Member`` or a ``Skipped`` for each file, in the order of the central directory."""
        for index, info in enumerate(self._infos):
            if info.is_dir():
                continue
            yield self._member(index, info)

    def find(self, parts: tuple[str, ...]) -> Member | None:
        """The readable member at ``parts`` (compared case-insensitively), or None."""
        wanted = tuple(part.casefold() for part in parts)
        for entry in self.members():
            if isinstance(entry, Member) and tuple(part.casefold() for part in entry.parts) == wanted:
                return entry
        return None

    def _member(self, index: int, info: zipfile.ZipInfo) -> "Member | Skipped":
        name = label(info.filename)

        def skipped(code: str, reason: str) -> Skipped:
            return Skipped(index=index, name=name, code=code, reason=reason)

        parts = safe_parts(info.filename)
        if parts is None:
            return skipped("unsafe_path", "The name points outside the archive (an absolute path or '..'); skipped.")
        if parts[0] == "__MACOSX" or any(part.startswith(".") for part in parts):
            return skipped("system_file", "A hidden or system file, not content; skipped.")
        if info.flag_bits & 0x1:
            return skipped("encrypted", "The member is encrypted; send it unencrypted.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
            return skipped("unsupported_compression", "The member uses a compression method that cannot be read.")
        if parts[-1].lower().endswith(ARCHIVE_SUFFIXES):
            return skipped("nested_archive", "Archives inside the archive are not opened; skipped.")
        limits = self.limits
        if info.file_size > limits.max_member_bytes:
            return skipped(
                "too_large", f"The member is larger than {_size_text(limits.max_member_bytes)} once decompressed."
            )
        if _ratio(info.file_size, info.compress_size) > limits.max_ratio:
            return skipped(
                "compression_ratio",
                f"The member expands more than {limits.max_ratio:g} times (a zip bomb?); skipped.",
            )
        return Member(
            index=index,
            name=name,
            parts=parts,
            size=info.file_size,
            compressed_size=info.compress_size,
            _archive=self,
            _info=info,
        )

    def _read(self, member: Member) -> bytes:
        # The declared size passed the caps (``_member``, ``_check_directory``); never read past it.
        cap = member.size
        try:
            with self._zip.open(member._info) as stream:
                data = stream.read(cap + 1)
                if len(data) <= cap:
                    stream.read(1)  # reach the end of the stream, where the CRC is checked
        except (
            zipfile.BadZipFile,
            zlib.error,
            lzma.LZMAError,
            EOFError,
            OSError,
            RuntimeError,
            ValueError,
            NotImplementedError,
        ):
            raise MemberSkipped("corrupt", "The member's data are damaged (bad CRC or stream).") from None
        if len(data) != member.size:
            raise MemberSkipped("corrupt", "The member's data do not match the size its header declares.")
        self.bytes_read += len(data)
        if is_archive(data):
            raise MemberSkipped("nested_archive", "Archives inside the archive are not opened; skipped.")
        return data


def open_archive(source, *, limits: ArchiveLimits | None = None, field=("file",)) -> Archive:
    """The archive in ``source`` (a path or a seekable binary file), checked; ``ArchiveRejected``
    when it cannot be used at all. ``field`` locates the error (a name or a tuple path)."""
    return Archive(source, limits=limits or ArchiveLimits(), field=field)


# --- names ---------------------------------------------------------------------------------------


def safe_parts(name: str) -> tuple[str, ...] | None:
    """The path components of a member name, or None when the name could escape a folder: absolute
    (``/``, ``\\``, a drive letter), with ``..``, a NUL or a control character. Backslashes count as
    separators; empty and ``.`` components are dropped."""
    if not name or "\x00" in name or any(unicodedata.category(char) == "Cc" for char in name):
        return None
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or _WINDOWS_DRIVE.match(normalized):
        return None
    parts = []
    for part in normalized.split("/"):
        if part in ("", "."):
            continue
        if part == ".." or _WINDOWS_DRIVE.match(part):
            return None
        parts.append(part)
    return tuple(parts) or None


def label(name: str) -> str:
    """A member name as text for a report: printable, at most 200 characters."""
    text = "".join(char if unicodedata.category(char)[0] != "C" else "?" for char in name or "")
    return text if len(text) <= _LABEL_MAX else text[: _LABEL_MAX - 1] + "…"


def is_archive(data: bytes) -> bool:
    """Whether ``data`` starts like an archive or compressed stream."""
    if data.startswith(ARCHIVE_MAGIC):
        return True
    return data[_TAR_MAGIC_OFFSET : _TAR_MAGIC_OFFSET + 5] == b"ustar"


# --- checks before reading -------------------------------------------------------------------------


def _open_checked(source, limits: ArchiveLimits, field) -> zipfile.ZipFile:
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        with open(source, "rb") as stream:
            _check_end_record(stream, limits, field)
        return _zipfile(source, field)
    _check_end_record(source, limits, field)
    source.seek(0)
    return _zipfile(source, field)


def _zipfile(source, field) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError):
        raise ArchiveRejected("The file is not a readable ZIP archive.", code="not_a_zip", field=field) from None


def _check_end_record(stream, limits: ArchiveLimits, field) -> None:
    entries, directory_size = _directory_counts(stream, field)
    if entries > limits.max_members:
        raise ArchiveRejected(
            f"The archive has {entries:,} members; at most {limits.max_members:,} are allowed.",
            code="too_many_members",
            field=field,
        )
    if directory_size > limits.max_members * _DIRECTORY_ENTRY_ALLOWANCE:
        raise ArchiveRejected(
            "The archive's directory is larger than its members can need.", code="too_many_members", field=field
        )


def _directory_counts(stream, field) -> tuple[int, int]:
    """The member count and central-directory size the end record declares (ZIP64 too)."""
    not_a_zip = ArchiveRejected("The file is not a ZIP archive.", code="not_a_zip", field=field)
    stream.seek(0, 2)
    size = stream.tell()
    if size < _EOCD_SIZE:
        raise not_a_zip
    tail_size = min(size, _EOCD_SIZE + _MAX_COMMENT)
    stream.seek(size - tail_size)
    tail = stream.read(tail_size)
    position = tail.rfind(_EOCD)
    while position >= 0 and position + _EOCD_SIZE > len(tail):
        position = tail.rfind(_EOCD, 0, position)
    if position < 0:
        raise not_a_zip
    (_, _, _, _, entries, directory_size, _, _) = struct.unpack("<4s4H2LH", tail[position : position + _EOCD_SIZE])
    locator_at = size - tail_size + position - _ZIP64_LOCATOR_SIZE
    if locator_at >= 0:
        stream.seek(locator_at)
        locator = stream.read(_ZIP64_LOCATOR_SIZE)
        if locator[:4] == _ZIP64_LOCATOR:
            (_, _, record_at, _) = struct.unpack("<4sLQL", locator)
            if record_at + 56 > size:
                raise not_a_zip
            stream.seek(record_at)
            record = stream.read(56)
            if record[:4] != _ZIP64_EOCD:
                raise not_a_zip
            (_, _, _, _, _, _, _, entries, directory_size, _) = struct.unpack("<4sQ2H2L4Q", record)
    return entries, directory_size


def _check_directory(infos: list, limits: ArchiveLimits, field) -> None:
    if len(infos) > limits.max_members:
        raise ArchiveRejected(
            f"The archive has {len(infos):,} members; at most {limits.max_members:,} are allowed.",
            code="too_many_members",
            field=field,
        )
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_bytes:
        raise ArchiveRejected(
            f"The archive expands to {_size_text(total)}; at most {_size_text(limits.max_total_bytes)} are allowed.",
            code="too_large",
            field=field,
        )
    compressed = sum(info.compress_size for info in infos)
    if _ratio(total, compressed) > limits.max_ratio:
        raise ArchiveRejected(
            f"The archive expands more than {limits.max_ratio:g} times its size (a zip bomb?); it was not opened.",
            code="compression_ratio",
            field=field,
        )
    spans = sorted((info.header_offset, info.header_offset + _LOCAL_HEADER + info.compress_size) for info in infos)
    for (_, end), (begin, _) in itertools.pairwise(spans):
        if begin < end:
            raise ArchiveRejected(
                "Members of the archive share their data (a crafted archive); it was not opened.",
                code="overlapping_members",
                field=field,
            )


def _ratio(size: int, compressed: int) -> float:
    if size <= _RATIO_FLOOR:
        return 1.0
    return size / max(compressed, 1)


def _size_text(size: int) -> str:
    if size >= MIB and size % MIB == 0:
        return f"{size // MIB:,} MB"
    if size >= MIB:
        return f"{size / MIB:,.1f} MB"
    return f"{size:,} bytes"
