"""Checksums of stored or uploaded bytes, computed in chunks so large files never sit in memory."""

import hashlib

from .errors import UnsupportedChecksum

SUPPORTED_CHECKSUMS = ("md5", "sha1", "sha256", "sha512")
CHUNK_SIZE = 1024 * 1024


def hasher(algorithm: str = "sha256"):
    """A new hashlib object for ``algorithm`` (case-insensitive); UnsupportedChecksum otherwise."""
    name = algorithm.lower() if isinstance(algorithm, str) else algorithm
    if name not in SUPPORTED_CHECKSUMS:
        raise UnsupportedChecksum(
            f"The checksum algorithm {algorithm!r} is not supported; use one of {', '.join(SUPPORTED_CHECKSUMS)}."
        )
    # md5 and sha1 identify content here; they never protect a secret.
    return hashlib.new(name, usedforsecurity=False)


def checksum(source, algorithm: str = "sha256", *, chunk_size: int = CHUNK_SIZE) -> str:
    """The hex digest of ``source``: bytes, a Django File (read through ``chunks()``, which starts
    from the beginning) or any binary file-like object (read from its current position)."""
    digest = hasher(algorithm)
    if isinstance(source, (bytes, bytearray, memoryview)):
        digest.update(source)
    elif hasattr(source, "chunks"):
        for chunk in source.chunks(chunk_size):
            digest.update(chunk)
    elif hasattr(source, "read"):
        while chunk := source.read(chunk_size):
            digest.update(chunk)
    else:
        raise TypeError(f"checksum() needs bytes or a binary file, not {type(source).__name__}")
    return digest.hexdigest()
