"""Which dialect owns a path: used for errors raised before any view runs (no route, 500s)."""

from django.conf import settings

from .aimg import AIMG
from .base import PLAIN
from .neuroflash import NEUROFLASH
from .ocs import OCS
from .sartiq import SARTIQ


def dialect_for_path(path: str):
    """The dialect for ``path``; None for the HTML parts (back office, static and media files)."""
    for prefix in ("/admin/", settings.STATIC_URL, settings.MEDIA_URL):
        if prefix and path.startswith(prefix if prefix.startswith("/") else f"/{prefix}"):
            return None
    if path.startswith(("/ocs/v1.php", "/ocs/v2.php")):
        return OCS
    if path.startswith("/api/image-service/"):
        return NEUROFLASH
    if path.startswith("/api/v1/"):
        return SARTIQ
    if path.startswith(("/api/", "/health")):
        return PLAIN
    return AIMG
