"""The media pipeline every uploaded, generated or fetched image goes through."""

from .checksums import SUPPORTED_CHECKSUMS, checksum
from .errors import MediaRejected, MediaTooLarge, UnsupportedChecksum
from .pipeline import (
    EXTENSIONS,
    MIME_TYPES,
    ProcessedImage,
    dominant_color,
    orientation_of,
    process_image,
    resize,
    should_defer,
    thumbnail,
)
from .policies import (
    FILE_SERVER_IMAGE,
    GENERATED_ITEM,
    POLICIES,
    PROFILE_PICTURE,
    STUDIO_MEDIA,
    WORKSPACE_IMAGE,
    MediaPolicy,
    get_policy,
)
from .storage import normalize_stored_image

__all__ = [
    "EXTENSIONS",
    "FILE_SERVER_IMAGE",
    "GENERATED_ITEM",
    "MIME_TYPES",
    "POLICIES",
    "PROFILE_PICTURE",
    "STUDIO_MEDIA",
    "SUPPORTED_CHECKSUMS",
    "WORKSPACE_IMAGE",
    "MediaPolicy",
    "MediaRejected",
    "MediaTooLarge",
    "ProcessedImage",
    "UnsupportedChecksum",
    "checksum",
    "dominant_color",
    "get_policy",
    "normalize_stored_image",
    "orientation_of",
    "process_image",
    "resize",
    "should_defer",
    "thumbnail",
]
