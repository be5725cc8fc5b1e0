"""The LoRA file checks of apps.core.sartiq.lora: extensions, safetensors headers, the upload handler."""

import io
import os
import struct

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.errors import InvalidInput
from apps.core.media import MediaTooLarge
from apps.core.sartiq import lora

from .lora_support import raw_safetensors, safetensors_bytes, small_lora


def check(content: bytes) -> dict:
    stream = io.BytesIO(content)
    stream.seek(3)
    try:
        return lora.check_safetensors(stream, size=len(content))
    finally:
        assert stream.tell() == 3  # left where it was


def refusal(content: bytes) -> str:
    with pytest.raises(InvalidInput) as caught:
        check(content)
    assert list(caught.value.errors) == [("file",)]
    return caught.value.message


@pytest.mark.parametrize("name", ["a.safetensors", "b.CKPT", "c.pt", "d.pth", "e.bin", "dir.v2/f.Safetensors"])
def test_lora_extensions_are_accepted_in_any_case(name):
    assert lora.check_extension(name) == "." + name.rsplit(".", 1)[1].lower()


@pytest.mark.parametrize("name", ["lora.zip", "lora.safetensors.exe", "lora", "", None, ".bin.txt", "model.onnx"])
def test_other_extensions_are_refused(name):
    with pytest.raises(InvalidInput) as caught:
        lora.check_extension(name)
    assert caught.value.message.startswith("A LoRA file must end in .safetensors, .ckpt, .pt, .pth, .bin;")
    assert list(caught.value.errors) == [("file",)]


def test_a_valid_safetensors_header_is_returned():
    header = check(small_lora())
    assert header["__metadata__"] == {"ss_network_dim": "4", "ss_network_alpha": "4"}
    assert header["lora_unet_down_blocks_0.lora_up.weight"] == {
        "dtype": "F16",
        "shape": [32, 4],
        "data_offsets": [256, 512],
    }


def test_a_header_padded_with_spaces_and_sub_byte_dtypes_are_valid():
    check(safetensors_bytes({"packed": ("F4", (2, 3)), "six": ("F6_E2M3", (4,))}, padding=7))


def test_a_file_without_tensors_is_valid():
    assert check(raw_safetensors({})) == {}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x01\x00", "it is shorter than the 8-byte header length"),
        (struct.pack("<Q", 100) + b"{}", "its header length (100 bytes) is larger than the file"),
        (struct.pack("<Q", 2**64 - 1) + b"{}", "is larger than the file"),
        (raw_safetensors(b"[1, 2]"), "its header is not a JSON object"),
        (raw_safetensors(b"{not json"), "its header is not valid UTF-8 JSON"),
        (raw_safetensors(b'{"a": "\xff"}'), "its header is not valid UTF-8 JSON"),
        (raw_safetensors(b"{" + b"[" * 100_000 + b"]" * 100_000 + b"}"), "its header is not valid UTF-8 JSON"),
        (raw_safetensors(b'{"a": 1, "a": 2}'), "its header is not valid UTF-8 JSON"),
        (raw_safetensors({"__metadata__": {"rank": 4}}), "its __metadata__ must map names to strings"),
        (raw_safetensors({"w": [1, 2]}), "tensor 'w' is not described by an object"),
        (
            raw_safetensors({"w": {"dtype": "F128", "shape": [1], "data_offsets": [0, 16]}}, b"\0" * 16),
            "tensor 'w' has an unknown dtype 'F128'",
        ),
        (
            raw_safetensors({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4),
            "the shape of tensor 'w' is not a list of non-negative integers",
        ),
        (
            raw_safetensors({"w": {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}}, b"\0" * 4),
            "the shape of tensor 'w' is not a list of non-negative integers",
        ),
        (
            raw_safetensors({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}, b"\0" * 4),
            "the data_offsets of tensor 'w' are not two non-negative integers",
        ),
        (
            raw_safetensors({"w": {"dtype": "F32", "shape": [0], "data_offsets": [4, 0]}}, b"\0" * 4),
            "the data_offsets of tensor 'w' end before they begin",
        ),
        (
            raw_safetensors({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}}, b"\0" * 8),
            "tensor 'w' has 8 bytes of data where its dtype and shape need 16",
        ),
        (
            raw_safetensors({"w": {"dtype": "F4", "shape": [3], "data_offsets": [0, 1]}}, b"\0"),
            "tensor 'w' has 1 bytes of data where its dtype and shape need 1.5",
        ),
        (
            raw_safetensors(
                {
                    "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                    "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]},
                },
                b"\0" * 6,
            ),
            "the data of tensor 'b' overlaps another tensor",
        ),
        (
            raw_safetensors({"a": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}}, b"\0" * 6),
            "the data of tensor 'a' leaves a gap before it",
        ),
        (
            safetensors_bytes({"a": ("F16", (8,))}) + b"extra",
            "its tensors cover 16 bytes of data, but the file holds 21",
        ),
        (safetensors_bytes({"a": ("F16", (8,))})[:-1], "its tensors cover 16 bytes of data, but the file holds 15"),
    ],
)
def test_a_corrupt_safetensors_file_is_refused_with_the_reason(content, reason):
    message = refusal(content)
    assert message.startswith("The file is not a valid .safetensors file: ")
    assert reason in message


def test_an_oversized_header_is_refused_before_it_is_read(monkeypatch):
    monkeypatch.setattr(lora, "SAFETENSORS_MAX_HEADER_BYTES", 64)
    assert "its header is larger than" in refusal(raw_safetensors({"__metadata__": {"k": "v" * 100}}))


# --- the upload handler -----------------------------------------------------------------------------


def test_the_handler_refuses_a_wrong_extension_before_reading_the_file():
    handler = lora.LoraUploadHandler(limit=100)
    with pytest.raises(InvalidInput):
        handler.new_file("file", "weights.zip", "application/zip", None)
    handler.new_file("other", "notes.zip", "application/zip", None)  # only the LoRA part is checked


def test_the_handler_stops_reading_past_the_cap_and_drops_its_temporary_file():
    handler = lora.LoraUploadHandler(limit=10)
    handler.new_file("file", "lora.bin", "application/octet-stream", None)
    path = handler.file.temporary_file_path()
    handler.receive_data_chunk(b"x" * 10, 0)
    with pytest.raises(MediaTooLarge) as caught:
        handler.receive_data_chunk(b"x", 10)
    assert caught.value.status_code == 413
    assert not os.path.exists(path)


def test_the_handler_refuses_a_declared_length_that_cannot_fit():
    handler = lora.LoraUploadHandler(limit=10)
    with pytest.raises(MediaTooLarge):
        handler.handle_raw_input(None, {}, 10 + lora.FORM_ALLOWANCE + 1, b"boundary")
    assert handler.handle_raw_input(None, {}, 10 + lora.FORM_ALLOWANCE, b"boundary") is None


def test_the_handler_spools_to_disk():
    handler = lora.LoraUploadHandler(limit=100)
    handler.new_file("file", "lora.pt", "application/octet-stream", None)
    handler.receive_data_chunk(b"abc", 0)
    uploaded = handler.file_complete(3)
    assert uploaded.temporary_file_path()
    assert uploaded.read() == b"abc"
    uploaded.close()


def test_store_lora_refuses_a_file_above_the_cap_even_without_the_handler(settings):
    settings.LORA_MAX_BYTES = 4
    with pytest.raises(MediaTooLarge) as caught:
        lora.store_lora(obj=None, upload=SimpleUploadedFile("a.bin", b"12345"), lora_trigger="t", kind="styles")
    assert caught.value.message == "LoRA files may be at most 4 bytes; send a smaller file."
