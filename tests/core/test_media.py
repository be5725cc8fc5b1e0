"""The media pipeline: every image is generated here with Pillow."""

import hashlib
import io
import uuid
import warnings
import zipfile

import pytest
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms, ImageFile

from apps.core.dialects.problems import normalize
from apps.core.errors import InvalidInput, NotFound
from apps.core.media import (
    FILE_SERVER_IMAGE,
    GENERATED_ITEM,
    POLICIES,
    PROFILE_PICTURE,
    STUDIO_MEDIA,
    SUPPORTED_CHECKSUMS,
    MediaPolicy,
    MediaRejected,
    MediaTooLarge,
    UnsupportedChecksum,
    checksum,
    get_policy,
    orientation_of,
    process_image,
    resize,
    should_defer,
    thumbnail,
)
from apps.core.media.tasks import normalize_stored_image

MIMES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def photo(size=(320, 200), mode="RGB") -> Image.Image:
    """Noise over a gradient: something like a photograph, hard to compress."""
    gradient = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 40)
    return Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT))).convert(mode)


def halves(size=(300, 200), left=(255, 0, 0), right=(0, 0, 255)) -> Image.Image:
    image = Image.new("RGB", size, right)
    image.paste(left, (0, 0, size[0] // 2, size[1]))
    return image


def animation(frames=5, size=(64, 48)) -> list:
    return [Image.new("RGB", size, (index * 50, 255 - index * 50, 0)) for index in range(frames)]


def animated(fmt: str, frames=5, size=(64, 48), **params) -> bytes:
    images = animation(frames, size)
    return encode(images[0], fmt, save_all=True, append_images=images[1:], duration=80, loop=0, **params)


def opened(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def close_to(actual, expected, tolerance=12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def rejected(content, policy=FILE_SERVER_IMAGE, **kwargs) -> MediaRejected:
    with pytest.raises(MediaRejected) as caught:
        process_image(content, policy=policy, **kwargs)
    return caught.value


class ReadCounter(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


class Unreadable(io.RawIOBase):
    def read(self, size=-1):
        raise AssertionError("the stream was read")


@pytest.fixture
def decode_spy(monkeypatch):
    """Records every full decode (ImageFile.load) while the test runs."""
    calls = []
    original = ImageFile.ImageFile.load

    def load(self):
        calls.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return calls


# --- accepted images ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_each_accepted_format_is_reencoded_in_its_own_format(fmt):
    source = encode(photo((320, 200)), fmt)

    result = process_image(source, policy=FILE_SERVER_IMAGE)

    assert (result.format, result.mime_type, result.source_format) == (fmt, MIMES[fmt], fmt)
    assert result.extension == {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}[fmt]
    assert (result.width, result.height, result.orientation) == (320, 200, "landscape")
    assert result.size == len(result.content)
    assert result.checksum == hashlib.sha256(result.content).hexdigest()
    assert result.checksum_algorithm == "sha256"
    assert result.dominant_color.startswith("#") and len(result.dominant_color) == 7
    assert (result.animated, result.frame_count, result.policy) == (False, 1, "file_server_image")
    decoded = opened(result.content)
    assert (decoded.format, decoded.size) == (fmt, (320, 200))
    thumb = opened(result.thumbnail)
    assert (thumb.format, thumb.size) == (fmt, (256, 160)) == (result.thumbnail_format, thumb.size)
    assert (result.thumbnail_width, result.thumbnail_height) == (256, 160)
    assert "content" not in result.metadata() and "thumbnail" not in result.metadata()
    assert result.metadata()["checksum"] == result.checksum


def test_profile_picture_is_webp_no_larger_than_its_side_limit_with_a_square_thumbnail():
    result = process_image(encode(photo((2000, 1000)), "JPEG"), policy=PROFILE_PICTURE)

    assert (result.format, result.mime_type, result.width, result.height) == ("WEBP", "image/webp", 1024, 512)
    assert opened(result.content).size == (1024, 512)
    assert opened(result.thumbnail).size == (128, 128)
    assert (result.thumbnail_format, result.thumbnail_width, result.thumbnail_height) == ("WEBP", 128, 128)


def test_django_upload_and_file_objects_are_accepted():
    source = encode(photo((120, 160)), "PNG")
    upload = SimpleUploadedFile("avatar.png", source, content_type="image/png")

    from_upload = process_image(upload, policy=FILE_SERVER_IMAGE)
    from_stream = process_image(io.BytesIO(source), policy=FILE_SERVER_IMAGE)

    assert from_upload.checksum == from_stream.checksum
    assert (from_upload.width, from_upload.height, from_upload.orientation) == (120, 160, "portrait")


def test_a_jpeg_with_extra_pictures_is_a_jpeg_of_its_first_picture():
    first, second = Image.new("RGB", (60, 40), (255, 0, 0)), Image.new("RGB", (60, 40), (0, 0, 255))
    mpo = encode(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(mpo)).format == "MPO"

    result = process_image(mpo, policy=STUDIO_MEDIA)

    assert (result.source_format, result.format, result.frame_count) == ("JPEG", "JPEG", 1)
    assert close_to(opened(result.content).getpixel((30, 20)), (255, 0, 0))
    assert getattr(Image.open(io.BytesIO(result.content)), "n_frames", 1) == 1


def test_transparent_png_to_jpeg_is_flattened_on_white():
    policy = MediaPolicy(name="flatten", max_bytes=10**6, output_format="JPEG")
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 20, 40))

    result = process_image(encode(image, "PNG"), policy=policy)

    decoded = opened(result.content).convert("RGB")
    assert close_to(decoded.getpixel((35, 20)), (255, 255, 255))
    assert close_to(decoded.getpixel((5, 20)), (0, 0, 255))


def test_sixteen_bit_grey_png_is_scaled_not_clipped_for_webp():
    image = Image.new("I;16", (32, 32), 32768)
    policy = MediaPolicy(name="grey", max_bytes=10**6, output_format="WEBP")

    result = process_image(encode(image, "PNG"), policy=policy)

    assert close_to(opened(result.content).convert("RGB").getpixel((5, 5)), (128, 128, 128), tolerance=3)


# --- orientation and metadata --------------------------------------------------------------------


def exif_with_gps(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "SecretCam"
    exif[0x0131] = "EditorSoftware"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (48.0, 51.0, 29.0)
    gps[3] = "E"
    gps[4] = (2.0, 17.0, 40.0)
    return exif


@pytest.mark.parametrize("policy", [FILE_SERVER_IMAGE, PROFILE_PICTURE], ids=["jpeg", "webp"])
def test_exif_orientation_is_applied_and_all_metadata_dropped(policy):
    source = encode(
        halves((300, 200)),
        "JPEG",
        quality=95,
        exif=exif_with_gps(6),
        comment=b"<script>alert(1)</script>",
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
        xmp=b"<x:xmpmeta><rdf:Description tiff:Make='SecretCam'/></x:xmpmeta>",
    )
    assert opened(source).getexif()[0x010F] == "SecretCam"

    result = process_image(source, policy=policy)

    assert (result.width, result.height, result.orientation) == (200, 300, "portrait")
    decoded = opened(result.content).convert("RGB")
    assert decoded.size == (200, 300)
    # Orientation 6 turns the picture a quarter clockwise: its left half (red) ends up on top.
    assert close_to(decoded.getpixel((100, 30)), (255, 0, 0), tolerance=40)
    assert close_to(decoded.getpixel((100, 270)), (0, 0, 255), tolerance=40)
    reopened = Image.open(io.BytesIO(result.content))
    assert dict(reopened.getexif()) == {}
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(reopened.info)
    for marker in (b"Exif", b"SecretCam", b"EditorSoftware", b"<script", b"xmpmeta"):
        assert marker not in result.content
        assert marker not in result.thumbnail


def test_png_text_chunks_and_exif_are_dropped():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    info.add_text("parameters", "secret prompt, seed 1234")
    source = encode(photo((64, 64)), "PNG", pnginfo=info, exif=exif_with_gps(1))

    result = process_image(source, policy=FILE_SERVER_IMAGE)

    reopened = opened(result.content)
    assert reopened.text == {}
    assert dict(reopened.getexif()) == {}
    assert b"secret prompt" not in result.content and b"<script" not in result.content


def test_icc_profile_is_converted_to_srgb_and_dropped_and_a_broken_one_is_ignored():
    colour = (200, 100, 50)
    tagged = encode(
        Image.new("RGB", (32, 32), colour),
        "PNG",
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    )
    broken = encode(Image.new("RGB", (32, 32), colour), "JPEG", quality=95, icc_profile=b"not an ICC profile")

    for source in (tagged, broken):
        result = process_image(source, policy=FILE_SERVER_IMAGE)
        decoded = opened(result.content)
        assert "icc_profile" not in decoded.info
        assert close_to(decoded.convert("RGB").getpixel((16, 16)), colour, tolerance=4)


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("warning_action", ["ignore", "error"])
def test_decompression_bomb_is_refused_before_any_decoding(decode_spy, warning_action):
    bomb = encode(Image.new("1", (10_000, 10_000)), "PNG")
    assert len(bomb) < 20_000

    with warnings.catch_warnings():
        warnings.simplefilter(warning_action, Image.DecompressionBombWarning)
        error = rejected(bomb)

    assert error.code == "too_many_pixels"
    assert error.status_code == 400
    assert "at most 40 megapixels" in error.message
    assert decode_spy == []


def test_the_pixel_limit_is_the_policy_s_not_pillow_s(decode_spy):
    policy = MediaPolicy(name="tiny", max_bytes=10**6, max_pixels=1_000_000)
    image = encode(Image.new("P", (1200, 1000)), "PNG")

    error = rejected(image, policy)

    assert error.code == "too_many_pixels"
    assert "1200x1000" in error.message and "at most 1 megapixels" in error.message
    assert decode_spy == []
    assert process_image(encode(Image.new("P", (1000, 1000)), "PNG"), policy=policy).width == 1000


def test_truncated_jpeg_and_png_are_refused():
    jpeg = encode(photo((400, 300)), "JPEG")
    png = encode(photo((400, 300)), "PNG")

    assert rejected(jpeg[: len(jpeg) // 2]).code == "truncated_image"
    assert rejected(png[: len(png) // 2]).code in ("truncated_image", "corrupt_image")
    assert "incomplete" in rejected(jpeg[: len(jpeg) // 2]).message


def test_png_with_a_broken_chunk_checksum_is_refused():
    png = bytearray(encode(photo((64, 64)), "PNG"))
    start = png.index(b"IDAT")
    length = int.from_bytes(png[start - 4 : start], "big")
    png[start + 4 + length + 3] ^= 0xFF  # the last byte of the IDAT chunk's CRC

    assert rejected(bytes(png)).code == "corrupt_image"


def test_polyglot_png_with_a_zip_after_it_is_neutralised():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("payload.html", "<html><script>alert(document.cookie)</script></html>")
    polyglot = encode(photo((80, 60)), "PNG") + archive.getvalue()
    assert zipfile.is_zipfile(io.BytesIO(polyglot))

    result = process_image(polyglot, policy=FILE_SERVER_IMAGE)

    assert not zipfile.is_zipfile(io.BytesIO(result.content))
    assert b"PK\x03\x04" not in result.content and b"<script" not in result.content
    assert result.content.endswith(b"IEND\xaeB`\x82")
    assert opened(result.content).size == (80, 60)


def test_html_after_an_image_and_script_in_comments_are_neutralised():
    html = b"<html><body><script>alert(1)</script></body></html>"
    cases = [
        (encode(photo((40, 40)), "JPEG") + html, "JPEG"),
        (encode(photo((40, 40)), "GIF", comment=b"<script>alert(1)</script>"), "GIF"),
        (encode(photo((40, 40)), "JPEG", comment=b"<script>alert(1)</script>"), "JPEG"),
    ]
    for source, fmt in cases:
        assert b"<script" in source
        result = process_image(source, policy=FILE_SERVER_IMAGE)
        assert result.format == fmt
        assert b"<script" not in result.content and b"<script" not in result.thumbnail


@pytest.mark.parametrize(
    "content",
    [
        b"just some text, certainly not an image\n",
        b"<html><script>alert(1)</script></html>",
        b"%PDF-1.7\n1 0 obj\n",
    ],
    ids=["text", "html", "pdf"],
)
def test_non_images_are_refused(content):
    error = rejected(content, STUDIO_MEDIA)
    assert error.code == "not_an_image"
    assert error.message == "The file is not an image we can read. Send a PNG, JPEG or WebP image."


def test_a_zip_archive_and_an_empty_file_are_refused():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("image.png", encode(photo((10, 10)), "PNG"))

    assert rejected(archive.getvalue()).code == "not_an_image"
    assert rejected(b"").code == "empty_file"


@pytest.mark.parametrize(
    ("content", "name", "mime", "found"),
    [
        (encode(photo((30, 30)), "GIF"), "photo.png", "image/png", "GIF"),
        (encode(photo((30, 30)), "BMP"), "photo.jpg", "image/jpeg", "BMP"),
        (encode(photo((30, 30)), "TIFF"), "photo.webp", "image/webp", "TIFF"),
    ],
)
def test_a_format_outside_the_allow_list_is_refused_whatever_the_name_and_mime_type(content, name, mime, found):
    upload = SimpleUploadedFile(name, content, content_type=mime)

    error = rejected(upload, STUDIO_MEDIA, field="file")

    assert error.code == "format_not_allowed"
    assert error.message.startswith(f"{found} images are not accepted for studio media.")
    assert error.errors == {("file",): [error.message]}
    problem = normalize(error)
    assert problem.status == 400
    assert [item.loc for item in problem.field_errors] == [["body", "file"]]


def test_over_the_size_cap_is_a_413_raised_before_decoding():
    image = encode(photo((64, 64)), "PNG")
    exact = MediaPolicy(name="exact", max_bytes=len(image))
    short = MediaPolicy(name="short", max_bytes=len(image) - 1)

    assert process_image(image, policy=exact).width == 64
    with pytest.raises(MediaTooLarge) as caught:
        process_image(image, policy=short)
    assert caught.value.status_code == 413
    assert "at most" in caught.value.message and "smaller image" in caught.value.message
    problem = normalize(caught.value)
    assert (problem.status, problem.code) == (413, "too_large")


def test_the_size_cap_reads_at_most_one_byte_more_than_the_cap():
    stream = ReadCounter(b"\x89PNG" + b"\0" * (6 * 1024 * 1024))

    with pytest.raises(MediaTooLarge):
        process_image(stream, policy=PROFILE_PICTURE)

    assert stream.bytes_read == PROFILE_PICTURE.max_bytes + 1


def test_a_declared_size_over_the_cap_is_refused_without_reading():
    stream = Unreadable()
    stream.size = PROFILE_PICTURE.max_bytes + 1

    with pytest.raises(MediaTooLarge):
        process_image(stream, policy=PROFILE_PICTURE)


# --- animation ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animations_keep_their_frames_when_the_policy_keeps_animation(fmt):
    result = process_image(animated(fmt), policy=GENERATED_ITEM)

    assert (result.animated, result.frame_count, result.format) == (True, 5, fmt)
    decoded = Image.open(io.BytesIO(result.content))
    assert decoded.n_frames == 5
    decoded.seek(2)
    assert close_to(decoded.convert("RGB").getpixel((10, 10)), (100, 155, 0), tolerance=10)
    assert opened(result.thumbnail).format == "WEBP"


def test_animation_is_dropped_to_its_first_frame_otherwise():
    result = process_image(animated("GIF"), policy=PROFILE_PICTURE)

    assert (result.animated, result.frame_count) == (False, 1)
    decoded = Image.open(io.BytesIO(result.content))
    assert getattr(decoded, "n_frames", 1) == 1
    assert close_to(decoded.convert("RGB").getpixel((10, 10)), (0, 255, 0))


def test_frame_count_and_animation_size_are_limited():
    few_frames = MediaPolicy(name="short", max_bytes=10**6, keep_animation=True, max_frames=3)
    few_pixels = MediaPolicy(name="small", max_bytes=10**6, keep_animation=True, max_animation_pixels=64 * 48 * 4)

    assert "more than 3 frames" in rejected(animated("GIF"), few_frames).message
    assert rejected(animated("GIF"), few_pixels).code == "too_many_frames"
    assert process_image(animated("GIF", frames=3), policy=few_frames).frame_count == 3


# --- checksums ------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha256", "sha512"])
def test_checksums_match_hashlib_for_bytes_streams_and_files(algorithm):
    data = bytes(range(256)) * 9000
    expected = hashlib.new(algorithm, data).hexdigest()

    assert algorithm in SUPPORTED_CHECKSUMS
    assert checksum(data, algorithm) == expected
    assert checksum(io.BytesIO(data), algorithm, chunk_size=4096) == expected
    assert checksum(File(io.BytesIO(data), name="blob.bin"), algorithm, chunk_size=1000) == expected
    assert checksum(data, algorithm.upper()) == expected
    result = process_image(encode(photo((50, 50)), "PNG"), policy=FILE_SERVER_IMAGE, checksum_algorithm=algorithm)
    assert result.checksum == hashlib.new(algorithm, result.content).hexdigest()
    assert result.checksum_algorithm == algorithm


@pytest.mark.parametrize("algorithm", ["crc32", "sha3_256", "blake2b", ""])
def test_unsupported_checksum_algorithms_are_refused(algorithm):
    with pytest.raises(UnsupportedChecksum) as caught:
        checksum(b"data", algorithm)
    assert isinstance(caught.value, InvalidInput)
    assert "md5, sha1, sha256, sha512" in caught.value.message
    with pytest.raises(UnsupportedChecksum):
        process_image(Unreadable(), policy=FILE_SERVER_IMAGE, checksum_algorithm=algorithm)


# --- variants -------------------------------------------------------------------------------------


def stored(fmt: str, size=(400, 200)) -> bytes:
    return process_image(encode(photo(size), fmt), policy=FILE_SERVER_IMAGE).content


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (100, 100, (100, 50)),
        (100, None, (100, 50)),
        (None, 50, (100, 50)),
        (1000, 1000, (400, 200)),
        (10, 200, (10, 5)),
    ],
)
def test_resize_fit_keeps_the_aspect_ratio_inside_the_box_and_never_enlarges(fmt, width, height, expected):
    content, mime = resize(stored(fmt), width=width, height=height, mode="fit")

    assert mime == MIMES[fmt]
    decoded = opened(content)
    assert (decoded.format, decoded.size) == (fmt, expected)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
@pytest.mark.parametrize(("width", "height"), [(100, 100), (64, 128), (600, 300), (1, 1)])
def test_resize_fill_gives_exactly_the_size(fmt, width, height):
    content, mime = resize(stored(fmt), width=width, height=height, mode="fill")

    assert mime == MIMES[fmt]
    assert opened(content).size == (width, height)
    assert opened(content).format == fmt


def stripes(size, across: bool) -> Image.Image:
    """Red, green and blue thirds, side by side (``across``) or stacked."""
    image = Image.new("RGB", size, (0, 255, 0))
    width, height = size
    if across:
        image.paste((255, 0, 0), (0, 0, width // 3, height))
        image.paste((0, 0, 255), (2 * width // 3, 0, width, height))
    else:
        image.paste((255, 0, 0), (0, 0, width, height // 3))
        image.paste((0, 0, 255), (0, 2 * height // 3, width, height))
    return image


@pytest.mark.parametrize(
    ("size", "across", "box"),
    [((300, 100), True, (50, 50)), ((100, 300), False, (50, 50)), ((300, 300), False, (90, 30))],
)
def test_resize_fill_keeps_the_centre(size, across, box):
    content, _ = resize(encode(stripes(size, across), "PNG"), width=box[0], height=box[1], mode="fill")

    decoded = opened(content).convert("RGB")
    assert decoded.size == box
    inner = [(2, 2), (box[0] - 3, 2), (2, box[1] - 3), (box[0] - 3, box[1] - 3), (box[0] // 2, box[1] // 2)]
    assert all(close_to(decoded.getpixel(point), (0, 255, 0), tolerance=24) for point in inner)


def test_resize_of_a_large_jpeg_is_accurate():
    source = stored("JPEG", size=(1600, 800))

    fit, _ = resize(source, width=200)
    fill, _ = resize(source, width=96, height=96, mode="fill")

    assert opened(fit).size == (200, 100)
    assert opened(fill).size == (96, 96)
    colours = halves((1600, 800), left=(255, 0, 0), right=(0, 0, 255))
    small, _ = resize(process_image(encode(colours, "JPEG"), policy=FILE_SERVER_IMAGE).content, width=160)
    assert close_to(opened(small).getpixel((20, 40)), (255, 0, 0), tolerance=30)
    assert close_to(opened(small).getpixel((140, 40)), (0, 0, 255), tolerance=30)


def test_resize_applies_exif_orientation_of_unnormalized_jpeg():
    source = encode(halves((300, 200)), "JPEG", exif=exif_with_gps(6))

    content, _ = resize(source, width=100, mode="fit")
    large, _ = resize(encode(halves((1600, 800)), "JPEG", exif=exif_with_gps(6)), width=100, mode="fit")

    assert opened(content).size == (100, 150)
    assert b"SecretCam" not in content
    assert opened(large).size == (100, 200)
    assert close_to(opened(large).getpixel((50, 20)), (255, 0, 0), tolerance=40)


@pytest.mark.parametrize("mode", ["fit", "fill"])
def test_resize_of_an_animated_gif_resizes_every_frame(mode):
    source = process_image(animated("GIF", size=(120, 60)), policy=GENERATED_ITEM).content

    content, mime = resize(source, width=40, height=40, mode=mode)

    decoded = Image.open(io.BytesIO(content))
    assert mime == "image/gif"
    assert decoded.n_frames == 5
    assert decoded.size == ((40, 40) if mode == "fill" else (40, 20))
    decoded.seek(4)
    assert close_to(decoded.convert("RGB").getpixel((5, 5)), (200, 55, 0), tolerance=10)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"width": 5000, "height": 100}, "width"),
        ({"width": 100, "height": 4097}, "height"),
        ({"width": 0}, "width"),
        ({"width": -5}, "width"),
        ({"width": 12.5}, "width"),
        ({"width": "100"}, "width"),
        ({"width": True}, "width"),
        ({"width": 100, "mode": "stretch"}, "mode"),
    ],
)
def test_resize_refuses_bad_sizes_and_modes(kwargs, field):
    with pytest.raises(MediaRejected) as caught:
        resize(stored("PNG"), **kwargs)

    assert caught.value.code == "invalid_size"
    assert (field,) in caught.value.errors


def test_resize_needs_a_size_and_fill_needs_both(settings):
    with pytest.raises(MediaRejected, match="width, a height or both"):
        resize(stored("PNG"))
    with pytest.raises(MediaRejected, match="fill mode needs both"):
        resize(stored("PNG"), width=100, mode="fill")
    settings.MEDIA_MAX_RESIZE_DIMENSION = 64
    with pytest.raises(MediaRejected, match="from 1 to 64"):
        resize(stored("PNG"), width=65)
    assert opened(resize(stored("PNG"), width=64)[0]).size == (64, 32)


def test_resize_refuses_non_images():
    with pytest.raises(MediaRejected) as caught:
        resize(b"not an image", width=10)
    assert caught.value.code == "not_an_image"


def test_thumbnail_is_a_still_image_inside_the_box():
    animated_gif = process_image(animated("GIF", size=(120, 60)), policy=GENERATED_ITEM).content

    content, mime = thumbnail(animated_gif, 32)
    square, _ = thumbnail(stored("JPEG"), (50, 50))

    decoded = Image.open(io.BytesIO(content))
    assert (mime, decoded.size, getattr(decoded, "n_frames", 1)) == ("image/gif", (32, 16), 1)
    assert opened(square).size == (50, 25)


# --- measurements ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_dominant_colour_of_a_solid_red_image_is_red(fmt):
    result = process_image(encode(Image.new("RGB", (200, 120), (255, 0, 0)), fmt), policy=FILE_SERVER_IMAGE)

    red, green, blue = (int(result.dominant_color[i : i + 2], 16) for i in (1, 3, 5))
    if fmt in ("PNG", "GIF"):
        assert result.dominant_color == "#ff0000"
    assert close_to((red, green, blue), (255, 0, 0), tolerance=3)


def test_dominant_colour_is_the_most_common_one_and_ignores_transparent_pixels():
    mostly_blue = Image.new("RGB", (100, 100), (0, 0, 255))
    mostly_blue.paste((255, 0, 0), (0, 0, 30, 100))
    sparse_green = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    sparse_green.paste((0, 255, 0, 255), (0, 0, 30, 30))

    assert process_image(encode(mostly_blue, "PNG"), policy=FILE_SERVER_IMAGE).dominant_color == "#0000ff"
    assert process_image(encode(sparse_green, "PNG"), policy=FILE_SERVER_IMAGE).dominant_color == "#00ff00"


def test_orientation_names():
    assert [orientation_of(3, 2), orientation_of(2, 3), orientation_of(5, 5)] == ["landscape", "portrait", "square"]


# --- deferral and policies ------------------------------------------------------------------------


def test_should_defer_by_size(settings):
    policy = MediaPolicy(name="defer", max_bytes=10_000, inline_max_bytes=1_000)

    assert should_defer(1_000, policy) is False
    assert should_defer(1_001, policy) is True
    assert should_defer(10_001, policy) is False  # refused at once rather than stored and deferred
    settings.MEDIA_INLINE_MAX_BYTES = 5_000
    assert should_defer(4_000, policy) is False
    assert should_defer(6_000, policy) is True


def test_named_policies_and_policy_validation():
    assert set(POLICIES) == {
        "profile_picture",
        "generated_item",
        "workspace_image",
        "studio_media",
        "file_server_image",
    }
    assert get_policy("profile_picture") is PROFILE_PICTURE
    assert PROFILE_PICTURE.max_bytes == 5 * 1024 * 1024
    assert PROFILE_PICTURE.thumbnail_size[0] == PROFILE_PICTURE.thumbnail_size[1]
    with pytest.raises(LookupError, match="known policies"):
        get_policy("nope")
    assert MediaPolicy(name="x", max_bytes=1, formats={"png", "gif"}).formats == frozenset({"PNG", "GIF"})
    for bad in (
        {"formats": {"BMP"}},
        {"formats": set()},
        {"output_format": "TIFF"},
        {"quality": 0},
        {"thumbnail_mode": "stretch"},
        {"max_pixels": 0},
    ):
        with pytest.raises(ValueError):
            MediaPolicy(name="bad", max_bytes=1, **bad)


# --- stored files and the worker task -------------------------------------------------------------


@pytest.fixture
def stored_name():
    names = []

    def store(content: bytes, extension: str) -> str:
        name = default_storage.save(f"media-tests/{uuid.uuid4().hex}/upload.{extension}", ContentFile(content))
        names.append(name)
        return name

    yield store
    for name in names:
        directory = name.rsplit("/", 1)[0]
        for filename in default_storage.listdir(directory)[1]:
            default_storage.delete(f"{directory}/{filename}")


def test_the_task_normalizes_a_stored_file_and_is_idempotent(stored_name):
    name = stored_name(encode(halves((300, 200)), "JPEG", exif=exif_with_gps(6)), "jpg")
    directory = name.rsplit("/", 1)[0]

    first = normalize_stored_image.delay(name, "profile_picture").get()
    second = normalize_stored_image.apply(args=(name, "profile_picture")).get()

    assert first == second
    assert first["name"] == f"{directory}/upload.normalized.webp"
    assert first["thumbnail_name"] == f"{directory}/upload.thumbnail.webp"
    assert first["source_name"] == name
    assert (first["width"], first["height"], first["format"], first["policy"]) == (200, 300, "WEBP", "profile_picture")
    assert sorted(default_storage.listdir(directory)[1]) == [
        "upload.jpg",
        "upload.normalized.webp",
        "upload.thumbnail.webp",
    ]
    with default_storage.open(first["name"]) as normalized:
        content = normalized.read()
    assert hashlib.sha256(content).hexdigest() == first["checksum"]
    assert len(content) == first["size"]
    assert opened(content).size == (200, 300)
    with default_storage.open(first["thumbnail_name"]) as thumb:
        assert opened(thumb.read()).size == (128, 128)


def test_the_task_replaces_stale_outputs_and_accepts_explicit_names(stored_name):
    name = stored_name(encode(photo((90, 60)), "PNG"), "png")
    directory = name.rsplit("/", 1)[0]
    default_storage.save(f"{directory}/out.png", ContentFile(b"stale bytes"))

    result = normalize_stored_image.delay(
        name, "file_server_image", output_name=f"{directory}/out.png", thumbnail_name=f"{directory}/thumb.png"
    ).get()

    assert result["name"] == f"{directory}/out.png"
    with default_storage.open(result["name"]) as normalized:
        assert hashlib.sha256(normalized.read()).hexdigest() == result["checksum"]
    assert sorted(default_storage.listdir(directory)[1]) == ["out.png", "thumb.png", "upload.png"]


def test_the_task_refuses_missing_files_unknown_policies_and_bad_images(stored_name):
    with pytest.raises(NotFound):
        normalize_stored_image.delay("media-tests/missing.png", "file_server_image").get()
    name = stored_name(encode(photo((20, 20)), "PNG"), "png")
    with pytest.raises(LookupError):
        normalize_stored_image.delay(name, "no_such_policy").get()
    text = stored_name(b"plain text", "png")
    with pytest.raises(MediaRejected):
        normalize_stored_image.delay(text, "file_server_image").get()
    assert default_storage.listdir(text.rsplit("/", 1)[0])[1] == ["upload.png"]
