"""Errors of the media pipeline. Dialects render them like every other core error."""

from apps.core.errors import AtelierError, InvalidInput


class MediaRejected(InvalidInput):
    """The bytes are not an image this use accepts (400). ``code`` says why:

    ``empty_file``, ``not_an_image``, ``format_not_allowed``, ``too_many_pixels``, ``too_many_frames``,
    ``truncated_image``, ``corrupt_image``, ``invalid_size``.
    """

    default_message = "The file is not an image we can accept."
    code = "media_rejected"

    def __init__(self, message: str | None = None, *, field: str | None = None, **kwargs):
        if field and "errors" not in kwargs:
            kwargs["errors"] = {(field,): [message or self.default_message]}
        super().__init__(message, **kwargs)


class MediaTooLarge(AtelierError):
    """The file is over the byte cap of its use; refused before any decoding (413)."""

    status_code = 413
    default_message = "The file is too large."
    code = "too_large"


class UnsupportedChecksum(InvalidInput):
    """A checksum algorithm outside SUPPORTED_CHECKSUMS was asked for."""

    default_message = "This checksum algorithm is not supported."
    code = "unsupported_checksum"
