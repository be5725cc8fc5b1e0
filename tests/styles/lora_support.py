"""Building LoRA files for tests: small safetensors files, and large sparse files on disk."""

import json
import math
import struct

from apps.core.sartiq.lora import SAFETENSORS_DTYPE_BITS


def safetensors_bytes(tensors: dict, *, metadata: dict | None = None, padding: int = 0) -> bytes:
    """A safetensors file with ``tensors`` (name -> (dtype, shape)) laid out one after another, their
    data filled with a repeating byte pattern; ``padding`` spaces end the header."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for name, (dtype, shape) in tensors.items():
        size = math.prod(shape) * SAFETENSORS_DTYPE_BITS[dtype] // 8
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    return raw_safetensors(header, bytes(i % 251 for i in range(offset)), padding=padding)


def raw_safetensors(header, data: bytes = b"", *, padding: int = 0) -> bytes:
    """The bytes of a safetensors file with exactly this header (any JSON value) and data."""
    encoded = (header if isinstance(header, bytes) else json.dumps(header).encode()) + b" " * padding
    return struct.pack("<Q", len(encoded)) + encoded + data


def small_lora() -> bytes:
    """A valid, small LoRA in safetensors format (two rank-4 matrices and metadata)."""
    return safetensors_bytes(
        {
            "lora_unet_down_blocks_0.lora_down.weight": ("F16", (4, 32)),
            "lora_unet_down_blocks_0.lora_up.weight": ("F16", (32, 4)),
            "lora_unet_down_blocks_0.alpha": ("F32", ()),
        },
        metadata={"ss_network_dim": "4", "ss_network_alpha": "4"},
    )
