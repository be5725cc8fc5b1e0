"""What each use accepts and produces. Every upload names one of these policies."""

from dataclasses import dataclass

MIB = 1024 * 1024

#: Formats the pipeline can both sniff and write (Pillow format names).
SUPPORTED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF"})
#: Formats the pipeline can sniff and decode but never writes: a policy that accepts one of them
#: must name an ``output_format``.
READ_ONLY_FORMATS = frozenset({"TIFF"})
#: Formats that can carry several frames; an animation is kept only when the output is one of them.
ANIMATED_FORMATS = frozenset({"PNG", "WEBP", "GIF"})
THUMBNAIL_MODES = ("fit", "fill")


@dataclass(frozen=True)
class MediaPolicy:
    """Limits and output rules of one use.

    ``output_format`` None keeps the sniffed input format; a format name forces it. ``max_side``
    scales the normalized image down (never up) so its longer side fits. ``keep_animation`` keeps
    the frames of animated GIF, WebP and APNG input when the output format can hold them; otherwise
    the first frame is used. ``inline_max_bytes`` is the size above which ``should_defer`` sends
    the work to a worker.
    """

    name: str
    max_bytes: int
    formats: frozenset = SUPPORTED_FORMATS
    max_pixels: int = 40_000_000
    output_format: str | None = None
    quality: int = 85
    keep_animation: bool = False
    max_frames: int = 300
    max_animation_pixels: int = 64_000_000
    max_side: int | None = None
    thumbnail_size: tuple[int, int] = (256, 256)
    thumbnail_mode: str = "fit"
    thumbnail_format: str | None = None
    inline_max_bytes: int = 2 * MIB
    label: str = ""

    def __post_init__(self):
        formats = frozenset(fmt.upper() for fmt in self.formats)
        object.__setattr__(self, "formats", formats)
        readable = SUPPORTED_FORMATS | READ_ONLY_FORMATS
        if not formats or not formats <= readable:
            raise ValueError(f"{self.name}: formats must be a non-empty subset of {sorted(readable)}")
        for attribute in ("output_format", "thumbnail_format"):
            value = getattr(self, attribute)
            if value is not None:
                value = value.upper()
                object.__setattr__(self, attribute, value)
                if value not in SUPPORTED_FORMATS:
                    raise ValueError(f"{self.name}: {attribute} must be one of {sorted(SUPPORTED_FORMATS)}")
        if formats & READ_ONLY_FORMATS and self.output_format is None:
            raise ValueError(f"{self.name}: {sorted(formats & READ_ONLY_FORMATS)} cannot be written; set output_format")
        if self.max_bytes <= 0 or self.max_pixels <= 0 or self.max_frames <= 0 or self.inline_max_bytes <= 0:
            raise ValueError(f"{self.name}: byte, pixel and frame limits must be positive")
        if not 1 <= self.quality <= 100:
            raise ValueError(f"{self.name}: quality must be between 1 and 100")
        if self.max_side is not None and self.max_side <= 0:
            raise ValueError(f"{self.name}: max_side must be positive")
        if len(self.thumbnail_size) != 2 or min(self.thumbnail_size) <= 0:
            raise ValueError(f"{self.name}: thumbnail_size must be two positive integers")
        if self.thumbnail_mode not in THUMBNAIL_MODES:
            raise ValueError(f"{self.name}: thumbnail_mode must be one of {THUMBNAIL_MODES}")

    @property
    def display_name(self) -> str:
        return self.label or self.name.replace("_", " ")

    def output_format_for(self, input_format: str) -> str:
        return self.output_format or input_format

    def thumbnail_format_for(self, output_format: str) -> str:
        return self.thumbnail_format or output_format


PROFILE_PICTURE = MediaPolicy(
    name="profile_picture",
    label="profile pictures",
    max_bytes=5 * MIB,
    output_format="WEBP",
    max_side=1024,
    thumbnail_size=(128, 128),
    thumbnail_mode="fill",
    inline_max_bytes=5 * MIB,
)

# AIMG setSelfUserProfilePicture: at most 1 MB and 1024x1024 px of JPEG, PNG, TIFF or WebP; the
# stored picture is the 128x128 WebP thumbnail. The pixel cap refuses larger images before decoding;
# the per-side limit is checked by the accounts service on the decoded size.
AIMG_PROFILE_PICTURE = MediaPolicy(
    name="aimg_profile_picture",
    label="profile pictures",
    max_bytes=MIB,
    formats=frozenset({"JPEG", "PNG", "TIFF", "WEBP"}),
    max_pixels=1024 * 1024,
    output_format="WEBP",
    thumbnail_size=(128, 128),
    thumbnail_mode="fill",
    inline_max_bytes=MIB,
)

GENERATED_ITEM = MediaPolicy(
    name="generated_item",
    label="generated images",
    max_bytes=50 * MIB,
    quality=92,
    keep_animation=True,
    thumbnail_size=(512, 512),
    thumbnail_format="WEBP",
)

WORKSPACE_IMAGE = MediaPolicy(
    name="workspace_image",
    label="workspace images",
    max_bytes=20 * MIB,
    formats=frozenset({"PNG", "JPEG", "WEBP"}),
    quality=90,
    thumbnail_size=(320, 320),
    thumbnail_format="WEBP",
)

STUDIO_MEDIA = MediaPolicy(
    name="studio_media",
    label="studio media",
    max_bytes=25 * MIB,
    formats=frozenset({"PNG", "JPEG", "WEBP"}),
    quality=92,
    thumbnail_size=(512, 512),
    thumbnail_format="WEBP",
)

FILE_SERVER_IMAGE = MediaPolicy(
    name="file_server_image",
    label="file server images",
    max_bytes=50 * MIB,
    keep_animation=True,
    thumbnail_size=(256, 256),
)

POLICIES = {
    policy.name: policy
    for policy in (PROFILE_PICTURE, GENERATED_ITEM, WORKSPACE_IMAGE, STUDIO_MEDIA, FILE_SERVER_IMAGE)
}


def get_policy(name: str) -> MediaPolicy:
    try:
        return POLICIES[name]
    except KeyError:
        raise LookupError(f"No media policy is named {name!r}; known policies: {', '.join(sorted(POLICIES))}") from None
