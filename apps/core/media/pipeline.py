"""The one pipeline for untrusted image bytes.

``process_image`` caps the size before decoding, sniffs the format from the bytes, refuses
decompression bombs before any pixel is decoded, verifies, reopens, applies the EXIF orientation,
converts ICC-tagged colours to sRGB and drops every other piece of metadata (EXIF, GPS, XMP, ICC,
comments, text chunks), re-encodes, and measures the result. Only pixels survive the re-encode, so
bytes appended to an image (a ZIP, HTML or script after the end of a PNG) never reach storage.

``resize`` and ``thumbnail`` derive variants of stored images; they decode with the same checks.
"""

import io
import math
from contextlib import contextmanager
from dataclasses import dataclass, fields
from dataclasses import field as dataclass_field

from django.conf import settings
from PIL import Image, ImageCms, ImageSequence, UnidentifiedImageError

from apps.core.errors import AtelierError

from .checksums import hasher
from .errors import MediaRejected, MediaTooLarge
from .policies import ANIMATED_FORMATS, MIB, MediaPolicy

MIME_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}
_DISPLAY_NAMES = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP", "GIF": "GIF", "JPEG2000": "JPEG 2000"}
# Pillow opens a JPEG that carries extra pictures (phone depth maps, previews) as MPO.
_ALIASES = {"MPO": "JPEG"}
# Recognised only to name them in a refusal; their pixels are never decoded.
_RECOGNISED = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF", "ICO", "AVIF", "JPEG2000", "PSD")
# The only image info that survives: palette and colour-key transparency are pixel data.
_KEPT_INFO = ("transparency",)
# The largest side each encoder can write.
_MAX_SIDE = {"JPEG": 65_500, "WEBP": 16_383, "GIF": 65_535, "PNG": 2**31 - 1}
# EXIF orientation -> the transpose that shows the picture upright (as ImageOps.exif_transpose).
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_SIDES = {
    Image.Transpose.TRANSPOSE,
    Image.Transpose.ROTATE_270,
    Image.Transpose.TRANSVERSE,
    Image.Transpose.ROTATE_90,
}
_EXIF_ORIENTATION = 0x0112
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_READ_CHUNK = MIB
# Large reductions first average blocks of pixels, then resample at twice the target (as Image.thumbnail).
_REDUCING_GAP = 2.0

RESIZE_MODES = ("fit", "fill")
DEFAULT_MAX_RESIZE_DIMENSION = 4096
VARIANT_QUALITY = 85
# zlib level 4 writes noisy photographs about 3 times faster than the default 6, for about 4 % more bytes.
PNG_COMPRESS_LEVEL = 4
# Limits for decoding stored images into variants; everything stored went through a policy at least as strict.
VARIANT_SOURCE = MediaPolicy(name="variant_source", label="stored images", max_bytes=64 * MIB, keep_animation=True)


@dataclass(frozen=True)
class ProcessedImage:
    """A normalized image and what was measured on it. ``checksum`` is of ``content``; ``extension``
    has no leading dot; ``dominant_color`` is ``#rrggbb``."""

    content: bytes = dataclass_field(repr=False)
    format: str
    mime_type: str
    extension: str
    width: int
    height: int
    size: int
    checksum: str
    checksum_algorithm: str
    dominant_color: str
    orientation: str
    source_format: str
    animated: bool
    frame_count: int
    thumbnail: bytes = dataclass_field(repr=False)
    thumbnail_format: str
    thumbnail_mime_type: str
    thumbnail_extension: str
    thumbnail_width: int
    thumbnail_height: int
    policy: str

    def metadata(self) -> dict:
        """Every field except the two byte strings; JSON-serialisable."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("content", "thumbnail")}


@dataclass
class _Opened:
    image: Image.Image
    format: str
    transpose: Image.Transpose | None
    icc_profile: bytes | None

    @property
    def upright_size(self) -> tuple[int, int]:
        width, height = self.image.size
        return (height, width) if self.transpose in _SWAPS_SIDES else (width, height)


@dataclass
class _Frames:
    images: list
    durations: list = dataclass_field(default_factory=list)
    loop: int | None = None  # None: play once (no loop count is written)

    @property
    def animated(self) -> bool:
        return len(self.images) > 1


# --- public API ----------------------------------------------------------------------------------


def process_image(
    source, *, policy: MediaPolicy, checksum_algorithm: str = "sha256", field: str | None = None
) -> ProcessedImage:
    """Normalize untrusted image bytes (bytes or a binary file, Django uploads included) under
    ``policy``. Raises MediaTooLarge (413) over the byte cap and MediaRejected (400) for anything
    that is not an acceptable, intact image; ``field`` names the form field in the error."""
    digest = hasher(checksum_algorithm)
    data = read_capped(source, policy)
    if not data:
        raise MediaRejected(
            "The file is empty. Choose an image file and upload it again.", code="empty_file", field=field
        )
    opened = _open(data, policy, field)
    output_format = policy.output_format_for(opened.format)
    animate = policy.keep_animation and output_format in ANIMATED_FORMATS
    frames = _read_frames(opened, policy, field, animate=animate)
    if policy.max_side:
        frames.images = [
            _scale_to(frame, _fit_size(frame.size, policy.max_side, policy.max_side)) for frame in frames.images
        ]
    first = frames.images[0]
    content = _encode(frames, output_format, quality=policy.quality, field=field)
    digest.update(content)

    thumbnail_format = policy.thumbnail_format_for(output_format)
    thumb = _thumbnail_image(first, policy.thumbnail_size, policy.thumbnail_mode)
    thumbnail = _encode(_Frames([thumb]), thumbnail_format, quality=policy.quality, field=field)
    width, height = first.size
    return ProcessedImage(
        content=content,
        format=output_format,
        mime_type=MIME_TYPES[output_format],
        extension=EXTENSIONS[output_format],
        width=width,
        height=height,
        size=len(content),
        checksum=digest.hexdigest(),
        checksum_algorithm=digest.name,
        dominant_color=dominant_color(first),
        orientation=orientation_of(width, height),
        source_format=opened.format,
        animated=frames.animated,
        frame_count=len(frames.images),
        thumbnail=thumbnail,
        thumbnail_format=thumbnail_format,
        thumbnail_mime_type=MIME_TYPES[thumbnail_format],
        thumbnail_extension=EXTENSIONS[thumbnail_format],
        thumbnail_width=thumb.width,
        thumbnail_height=thumb.height,
        policy=policy.name,
    )


def resize(content: bytes, *, width: int | None = None, height: int | None = None, mode: str = "fit") -> tuple:
    """A resized copy of a stored image in its own format, as ``(bytes, mime_type)``.

    ``fit`` scales down (never up) to fit inside the box, keeping the aspect ratio; either side may
    be omitted. ``fill`` needs both sides and returns exactly that size, scaled and centre-cropped.
    Every frame of an animation is resized. Sides above MEDIA_MAX_RESIZE_DIMENSION are refused.
    """
    width, height = _check_box(width, height, mode)
    return _derive(content, width, height, mode, animate=True)


def thumbnail(content: bytes, size) -> tuple:
    """A still thumbnail (the first frame) of a stored image that fits inside ``size`` (an int for a
    square box, or ``(width, height)``), in the image's own format, as ``(bytes, mime_type)``."""
    width, height = (size, size) if isinstance(size, int) else tuple(size)
    width, height = _check_box(width, height, "fit")
    return _derive(content, width, height, "fit", animate=False)


def should_defer(size: int, policy: MediaPolicy) -> bool:
    """Whether an upload of ``size`` bytes should be normalized by a worker rather than in the
    request. Files over the policy's cap are not deferred: process_image refuses them at once.
    MEDIA_INLINE_MAX_BYTES, when set, replaces every policy's ``inline_max_bytes``."""
    if size > policy.max_bytes:
        return False
    threshold = getattr(settings, "MEDIA_INLINE_MAX_BYTES", None)
    if threshold is None:
        threshold = policy.inline_max_bytes
    return size > threshold


def read_capped(source, policy: MediaPolicy) -> bytes:
    """At most ``policy.max_bytes`` bytes of ``source``; MediaTooLarge as soon as there are more.
    A file is read from its current position, and refused without reading when it declares a
    larger ``size`` (Django uploads and stored files do)."""
    limit = policy.max_bytes
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) > limit:
            raise _too_large(policy, len(source))
        return bytes(source)
    if not hasattr(source, "read"):
        raise TypeError(f"process_image() needs bytes or a binary file, not {type(source).__name__}")
    declared = _declared_size(source)
    if declared is not None and declared > limit:
        raise _too_large(policy, declared)
    chunks, total = [], 0
    while total <= limit:
        chunk = source.read(min(_READ_CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise _too_large(policy, None)
    return b"".join(chunks)


def orientation_of(width: int, height: int) -> str:
    if width > height:
        return "landscape"
    if height > width:
        return "portrait"
    return "square"


def dominant_color(image: Image.Image) -> str:
    """The most common colour of ``image`` as ``#rrggbb``: a 64 px copy quantized to 8 colours,
    counting only pixels that are at least half opaque (all of them when none is)."""
    small = _resizable(image)
    small = small.copy() if small.mode in ("RGB", "RGBA", "L", "LA") else small.convert("RGBA")
    small.thumbnail((64, 64), Image.Resampling.BOX)
    mask = None
    if small.mode in ("RGBA", "LA"):
        mask = small.getchannel("A").point(lambda alpha: 255 if alpha >= 128 else 0)
        if mask.getbbox() is None:
            mask = None
    quantized = small.convert("RGB").quantize(colors=8, method=Image.Quantize.MEDIANCUT)
    counts = quantized.histogram(mask=mask)
    index = max(range(len(counts)), key=counts.__getitem__)
    red, green, blue = quantized.getpalette()[index * 3 : index * 3 + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"


def max_resize_dimension() -> int:
    return int(getattr(settings, "MEDIA_MAX_RESIZE_DIMENSION", DEFAULT_MAX_RESIZE_DIMENSION))


# --- decoding ------------------------------------------------------------------------------------


@contextmanager
def _decoding(field: str | None, policy: MediaPolicy | None = None):
    """Pillow signals bad input with many exception types; each becomes a MediaRejected."""
    try:
        yield
    except AtelierError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        limit = (
            f" {policy.display_name.capitalize()} may have at most {policy.max_pixels / 1e6:g} megapixels."
            if policy
            else ""
        )
        raise MediaRejected(
            f"The image has far too many pixels to be processed.{limit} Send a smaller image.",
            code="too_many_pixels",
            field=field,
        ) from exc
    except Exception as exc:
        if isinstance(exc, EOFError) or "truncated" in str(exc).lower():
            raise MediaRejected(
                "The image is incomplete: the file ends before the picture does. Upload the complete file again.",
                code="truncated_image",
                field=field,
            ) from exc
        raise MediaRejected(
            "The image is damaged and cannot be read. Open it in an image editor, save it again and upload "
            "the new file.",
            code="corrupt_image",
            field=field,
        ) from exc


def _open(data: bytes, policy: MediaPolicy, field: str | None) -> _Opened:
    """Sniff, check the pixel count before anything is decoded, verify, and reopen."""
    allowed = sorted(policy.formats)
    image = _sniff(data, policy, field)
    _check_pixels(image.size, policy, field)
    with _decoding(field, policy):
        image.verify()
        image = Image.open(io.BytesIO(data), formats=allowed)
        _check_pixels(image.size, policy, field)
        fmt = _ALIASES.get(image.format, image.format)
        if fmt != "JPEG":
            # PNG may keep its EXIF after the pixels, and reading it decodes them: decode here, where
            # a failure is a refusal. JPEG waits, so that a variant can be decoded at a reduced scale.
            image.load()
    return _Opened(image=image, format=fmt, transpose=_transpose(image), icc_profile=image.info.get("icc_profile"))


def _transpose(image: Image.Image) -> Image.Transpose | None:
    try:
        orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:
        return None  # unreadable EXIF is dropped like the rest of the metadata
    return _ORIENTATION.get(orientation) if isinstance(orientation, int) else None


def _sniff(data: bytes, policy: MediaPolicy, field: str | None) -> Image.Image:
    """The image opened with the policy's formats only; a refusal that names a recognised format."""
    with _decoding(field, policy):
        try:
            image = Image.open(io.BytesIO(data), formats=sorted(policy.formats))
        except UnidentifiedImageError:
            image = None
    if image is not None and _ALIASES.get(image.format, image.format) in policy.formats:
        return image
    found = _identify(data)
    accepted = _accepted(policy)
    if found is not None and found not in policy.formats:
        raise MediaRejected(
            f"{_DISPLAY_NAMES.get(found, found)} images are not accepted for {policy.display_name}. "
            f"Send {accepted} image.",
            code="format_not_allowed",
            field=field,
        )
    raise MediaRejected(
        f"The file is not an image we can read. Send {accepted} image.", code="not_an_image", field=field
    )


def _identify(data: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(data), formats=_RECOGNISED) as image:
            return _ALIASES.get(image.format, image.format)
    except Exception:
        return None


def _accepted(policy: MediaPolicy) -> str:
    names = [_DISPLAY_NAMES[fmt] for fmt in ("PNG", "JPEG", "WEBP", "GIF") if fmt in policy.formats]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f"an {listed}" if listed[0] in "AEIOU" else f"a {listed}"


def _check_pixels(size: tuple[int, int], policy: MediaPolicy, field: str | None) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise MediaRejected("The image has no pixels.", code="corrupt_image", field=field)
    if width * height > policy.max_pixels:
        raise MediaRejected(
            f"The image is {width}x{height} pixels ({width * height / 1e6:.1f} megapixels); "
            f"{policy.display_name} may have at most {policy.max_pixels / 1e6:g} megapixels. Send a smaller image.",
            code="too_many_pixels",
            field=field,
        )


def _read_frames(
    opened: _Opened, policy: MediaPolicy, field: str | None, *, animate: bool, draft: tuple | None = None
) -> _Frames:
    """Decode the first frame, or every frame of an animation when ``animate``, upright, in sRGB
    and without metadata. Frame count and total pixels are checked before each frame is decoded."""
    image = opened.image
    transforms: dict = {}
    with _decoding(field, policy):
        if animate and opened.format != "JPEG" and getattr(image, "is_animated", False):
            width, height = image.size
            frames = _Frames([], [], image.info.get("loop"))
            for index, frame in enumerate(ImageSequence.Iterator(image)):
                if index >= policy.max_frames:
                    raise MediaRejected(
                        f"The animation has more than {policy.max_frames} frames, the limit for "
                        f"{policy.display_name}. Send a shorter animation.",
                        code="too_many_frames",
                        field=field,
                    )
                if (index + 1) * width * height > policy.max_animation_pixels:
                    raise MediaRejected(
                        f"The animation is too large: {policy.display_name} may have at most "
                        f"{policy.max_animation_pixels / 1e6:g} megapixels over all frames. Send a smaller or "
                        "shorter animation.",
                        code="too_many_frames",
                        field=field,
                    )
                frame.load()
                frames.durations.append(int(frame.info.get("duration") or 0))
                frames.images.append(_clean(frame, opened, transforms))
            if len(frames.images) > 1:
                frames.images = _common_mode(frames.images)
                return frames
            return _Frames(frames.images[:1])
        if draft and opened.format == "JPEG":
            requested = (draft[1], draft[0]) if opened.transpose in _SWAPS_SIDES else draft
            image.draft(None, requested)
        image.load()
        return _Frames([_clean(image, opened, transforms)])


def _clean(frame: Image.Image, opened: _Opened, transforms: dict) -> Image.Image:
    """A detached copy of ``frame``: colours in sRGB, upright, and no info but transparency."""
    image = _to_srgb(frame, opened.icc_profile, transforms) if opened.icc_profile else frame
    image = image.transpose(opened.transpose) if opened.transpose else image.copy()
    image.info = {key: value for key, value in image.info.items() if key in _KEPT_INFO}
    return image


def _to_srgb(image: Image.Image, icc_profile: bytes, transforms: dict) -> Image.Image:
    """Pixels converted from their embedded ICC profile to sRGB (the profile itself is then dropped,
    and untagged images are read as sRGB). An unusable profile is ignored."""
    mode = image.mode
    if mode not in ("RGB", "RGBA", "CMYK"):
        return image
    if mode not in transforms:
        transforms[mode] = None
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            already_srgb = ImageCms.getProfileDescription(profile).strip().lower().startswith("srgb")
            if mode == "CMYK" or not already_srgb:
                transforms[mode] = ImageCms.buildTransform(profile, _SRGB, mode, "RGBA" if mode == "RGBA" else "RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass
    transform = transforms[mode]
    if transform is None:
        return image
    try:
        return ImageCms.applyTransform(image, transform)
    except (ImageCms.PyCMSError, ValueError):
        transforms[mode] = None
        return image


def _common_mode(frames: list) -> list:
    mode = "RGBA" if any(_has_alpha(frame) for frame in frames) else "RGB"
    return [frame if frame.mode == mode else frame.convert(mode) for frame in frames]


# --- pixels and encoding ---------------------------------------------------------------------------


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _eight_bit(image: Image.Image) -> Image.Image:
    """16- and 32-bit grey scaled down to 8 bits (a plain convert would clip)."""
    return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")


def _resizable(image: Image.Image) -> Image.Image:
    """A mode that resamples smoothly (palette and bilevel images would only be resized nearest)."""
    if image.mode.startswith("I") or image.mode == "F":
        return _eight_bit(image)
    if image.mode in ("1", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV"):
        return image.convert("RGBA" if _has_alpha(image) else "RGB")
    return image


def _for_format(image: Image.Image, fmt: str) -> Image.Image:
    """``image`` in a mode ``fmt`` can store; transparency is flattened onto white for JPEG."""
    if image.mode.startswith("I") or image.mode == "F":
        if fmt == "PNG" and image.mode == "I;16":
            return image
        image = _eight_bit(image)
    mode, alpha = image.mode, _has_alpha(image)
    if fmt == "JPEG":
        if mode in ("L", "RGB") and not alpha:
            return image
        if mode == "1":
            return image.convert("L")
        if alpha:
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return image.convert("RGB")
    if fmt == "PNG" and mode in ("1", "L", "LA", "P", "RGB", "RGBA"):
        return image
    if fmt == "WEBP" and (mode == "RGBA" or (mode == "RGB" and not alpha)):
        return image
    if fmt == "GIF" and mode in ("1", "L", "P", "RGB", "RGBA"):
        return image
    return image.convert("RGBA" if alpha else "RGB")


def _encode(frames: _Frames, fmt: str, *, quality: int, field: str | None = None) -> bytes:
    images = [_for_format(image, fmt) for image in frames.images]
    first = images[0]
    if max(first.size) > _MAX_SIDE[fmt]:
        raise MediaRejected(
            f"The image is too large to be stored as {_DISPLAY_NAMES[fmt]} (at most {_MAX_SIDE[fmt]} pixels a side). "
            "Send a smaller image.",
            code="too_many_pixels",
            field=field,
        )
    params: dict = {}
    if fmt == "JPEG":
        params = {"quality": quality, "optimize": True}
    elif fmt == "WEBP":
        params = {"quality": quality, "method": 4}
    elif fmt == "PNG":
        params = {"compress_level": PNG_COMPRESS_LEVEL}
    if len(images) > 1:
        durations = frames.durations or [100] * len(images)
        params.update(save_all=True, append_images=images[1:], duration=durations)
        if frames.loop is not None:
            params["loop"] = frames.loop
        if fmt == "GIF" and first.mode == "RGBA":
            params["disposal"] = 2
    buffer = io.BytesIO()
    first.save(buffer, fmt, **params)
    return buffer.getvalue()


def _fit_size(size: tuple[int, int], max_width: int | None, max_height: int | None) -> tuple[int, int]:
    """The largest size with the aspect ratio of ``size`` inside the box, never larger than ``size``."""
    width, height = size
    scale = min(
        max_width / width if max_width else math.inf,
        max_height / height if max_height else math.inf,
        1.0,
    )
    if scale >= 1.0:
        return size
    new_width = max(1, min(round(width * scale), max_width or width))
    new_height = max(1, min(round(height * scale), max_height or height))
    return new_width, new_height


def _scale_to(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if image.size == size:
        return image
    resized = _resizable(image).resize(size, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)
    if "transparency" in image.info and resized.mode == image.mode:
        resized.info["transparency"] = image.info["transparency"]
    return resized


def _fill(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Exactly ``size``: scaled to cover it and centre-cropped (ImageOps.fit's geometry, with the
    box-reduce first step that makes large reductions several times faster)."""
    image = _resizable(image)
    width, height = image.size
    target_ratio = size[0] / size[1]
    if width / height > target_ratio:
        crop = height * target_ratio
        box = ((width - crop) / 2, 0, (width + crop) / 2, height)
    else:
        crop = width / target_ratio
        box = (0, (height - crop) / 2, width, (height + crop) / 2)
    return image.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=_REDUCING_GAP)


def _thumbnail_image(image: Image.Image, size: tuple[int, int], mode: str) -> Image.Image:
    if mode == "fill":
        return _fill(image, size)
    return _scale_to(image, _fit_size(image.size, *size))


def _too_large(policy: MediaPolicy, size: int | None) -> MediaTooLarge:
    limit = f"{policy.max_bytes / MIB:g} MB ({policy.max_bytes:,} bytes)"
    actual = f"The file is {size / MIB:.1f} MB" if size is not None else "The file is larger than that"
    return MediaTooLarge(f"{policy.display_name.capitalize()} may be at most {limit}. {actual}; send a smaller image.")


def _declared_size(source) -> int | None:
    try:
        size = getattr(source, "size", None)
    except (AttributeError, OSError, TypeError, ValueError):
        return None
    return size if isinstance(size, int) and not isinstance(size, bool) else None


# --- variants --------------------------------------------------------------------------------------


def _check_box(width, height, mode) -> tuple:
    if mode not in RESIZE_MODES:
        message = f"The resize mode must be one of {', '.join(RESIZE_MODES)}."
        raise MediaRejected(message, code="invalid_size", errors={("mode",): [message]})
    limit = max_resize_dimension()
    problems = {}
    for name, value in (("width", width), ("height", height)):
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= limit:
            problems[(name,)] = [f"The {name} must be a whole number of pixels from 1 to {limit}."]
    if problems:
        message = " ".join(messages[0] for messages in problems.values())
        raise MediaRejected(message, code="invalid_size", errors=problems)
    if width is None and height is None:
        raise MediaRejected("Give a width, a height or both to resize an image.", code="invalid_size")
    if mode == "fill" and (width is None or height is None):
        raise MediaRejected("The fill mode needs both a width and a height.", code="invalid_size")
    return width, height


def _derive(content: bytes, width: int | None, height: int | None, mode: str, *, animate: bool) -> tuple:
    policy = VARIANT_SOURCE
    if len(content) > policy.max_bytes:
        raise _too_large(policy, len(content))
    opened = _open(bytes(content), policy, None)
    upright_width, upright_height = opened.upright_size
    if mode == "fill":
        scale = max(width / upright_width, height / upright_height)
    else:
        scale = min(width / upright_width if width else math.inf, height / upright_height if height else math.inf, 1.0)
    # JPEG decodes straight to a reduced scale, kept at least twice the target for a clean resample.
    draft = None
    if scale * 2 < 1:
        draft = (math.ceil(upright_width * scale * 2), math.ceil(upright_height * scale * 2))
    frames = _read_frames(opened, policy, None, animate=animate, draft=draft)
    if mode == "fill":
        if len(frames.images) * width * height > policy.max_animation_pixels:
            raise MediaRejected(
                f"Resizing this animation to {width}x{height} would be too large. Ask for a smaller size.",
                code="invalid_size",
            )
        frames.images = [_fill(image, (width, height)) for image in frames.images]
    else:
        target = _fit_size(frames.images[0].size, width, height)
        frames.images = [_scale_to(image, target) for image in frames.images]
    fmt = opened.format
    return _encode(frames, fmt, quality=VARIANT_QUALITY), MIME_TYPES[fmt]
