"""Building ZIP archives for tests: ordinary ones with ``zipfile``, and hand-made ones whose headers
say whatever a test needs (overlapping members, wrong CRCs, encryption flags, odd methods)."""

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass


def zip_bytes(files: dict, *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """An archive of ``files`` (member name -> bytes; a name ending in "/" is a folder)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in files.items():
            if name.endswith("/"):
                archive.writestr(zipfile.ZipInfo(name), b"")
            else:
                archive.writestr(zipfile.ZipInfo(name), content, compress_type=compression)
    return buffer.getvalue()


def many_members(count: int) -> bytes:
    """An archive of ``count`` empty members (stored, so it is built quickly)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for index in range(count):
            archive.writestr(f"f{index}.txt", b"")
    return buffer.getvalue()


def zeros(size: int) -> bytes:
    return bytes(size)


@dataclass
class Raw:
    """One member of a hand-made archive. ``share`` reuses the local header (and data) of an earlier
    member, as overlapping zip bombs do; ``crc``, ``size``, ``flags`` and ``method`` override what
    the header says."""

    name: str
    data: bytes = b""
    method: int = 0  # 0 stored, 8 deflated, anything else unknown
    crc: int | None = None
    size: int | None = None
    flags: int = 0
    share: int | None = None


def raw_zip(members: list[Raw]) -> bytes:
    out = bytearray()
    offsets, records = [], []
    for member in members:
        payload = member.data
        if member.method == 8:
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            payload = compressor.compress(payload) + compressor.flush()
        crc = zlib.crc32(member.data) if member.crc is None else member.crc
        size = len(member.data) if member.size is None else member.size
        name = member.name.encode()
        if member.share is not None:
            offset = offsets[member.share]
            payload = records[member.share][3]
            crc, size = records[member.share][1], records[member.share][2]
        else:
            offset = len(out)
            out += struct.pack(
                "<4sHHHHHLLLHH",
                b"PK\x03\x04",
                20,
                member.flags,
                member.method,
                0,
                0x21,
                crc,
                len(payload),
                size,
                len(name),
                0,
            )
            out += name + payload
        offsets.append(offset)
        records.append((name, crc, size, payload, member.flags, member.method, offset))
    directory_at = len(out)
    for name, crc, size, payload, flags, method, offset in records:
        out += struct.pack(
            "<4sHHHHHHLLLHHHHHLL",
            b"PK\x01\x02",
            20,
            20,
            flags,
            method,
            0,
            0x21,
            crc,
            len(payload),
            size,
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        out += name
    directory_size = len(out) - directory_at
    out += struct.pack("<4sHHHHLLH", b"PK\x05\x06", 0, 0, len(records), len(records), directory_size, directory_at, 0)
    return bytes(out)


def with_declared_count(archive: bytes, count: int) -> bytes:
    """``archive`` with its end record claiming ``count`` members (the directory unchanged)."""
    position = archive.rfind(b"PK\x05\x06")
    return archive[: position + 8] + struct.pack("<HH", count, count) + archive[position + 12 :]
