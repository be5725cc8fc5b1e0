"""Requests and objects the guidelines tests share."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.guidelines.models import BackgroundPreset, BackgroundPresetFraming, ResolutionPreset, ShotType
from tests.sartiq_support import b64, client_for, image_bytes

SHOT_TYPES = "/api/v1/shot-types/"
BACKGROUNDS = "/api/v1/background-presets/"
RESOLUTIONS = "/api/v1/resolution-presets/"


def shot_type(owner, **fields) -> ShotType:
    fields.setdefault("name", f"shot-{ShotType.all_objects.count()}")
    fields.setdefault("view_angle", "front")
    fields.setdefault("framing", "full_body")
    return ShotType.objects.create(owner=owner, **fields)


def resolution_preset(owner, **fields) -> ResolutionPreset:
    fields.setdefault("name", "Full HD")
    fields.setdefault("width", 1920)
    fields.setdefault("height", 1080)
    return ResolutionPreset.objects.create(owner=owner, **fields)


def background_preset(owner, *, framings=(None,), **fields) -> BackgroundPreset:
    fields.setdefault("name", "Studio white")
    preset = BackgroundPreset.objects.create(owner=owner, **fields)
    for position, framing in enumerate(framings):
        BackgroundPresetFraming.objects.create(preset=preset, position=position, framing=framing)
    return preset


def image_b64(width: int = 32, height: int = 24, color=(200, 30, 30)) -> str:
    return b64(image_bytes(width, height, color))


def queries_for(callable_) -> int:
    with CaptureQueriesContext(connection) as captured:
        callable_()
    return len(captured)


__all__ = ["client_for"]
