"""AIMG shapes of the generation engine: Model, Prompt, GenerationStatus, VideoFrame, and the bodies
of generateImage / generateVideo.

Numbers in bodies are taken as JSON numbers only (a string "20" or a boolean is refused); the range
checks against the model are the job of ``services.generation.validate_parameters``.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.serializers import public_file_url
from apps.core.dialects.fields import StrictBooleanField, StrictCharField
from apps.items.models import Item

from ..models import GenerationJob, GenerationModel, SamplePrompt

MAX_PROMPT_CHARS = 4000


@extend_schema_field(OpenApiTypes.NUMBER)
class StrictNumberField(serializers.Field):
    """A JSON number (integer or decimal), never a string or a boolean."""

    default_error_messages = {"invalid": "Must be a number."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        if isinstance(data, float) and data != data:  # NaN
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class _GenerationBody(serializers.Serializer):
    prompt = StrictCharField(max_length=MAX_PROMPT_CHARS, trim_whitespace=True)
    modelName = StrictCharField(required=False, max_length=100)  # noqa: N815
    steps = StrictNumberField(required=False)
    seed = StrictNumberField(required=False)
    restoreFaces = StrictBooleanField(required=False)  # noqa: N815
    folderID = StrictCharField(required=False, allow_blank=True, max_length=100)  # noqa: N815


class GenerateImageBody(_GenerationBody):
    negprompt = StrictCharField(required=False, allow_blank=True, max_length=MAX_PROMPT_CHARS)
    subseed = StrictNumberField(required=False)
    subseed_strength = StrictNumberField(required=False)
    height = StrictNumberField(required=False)
    width = StrictNumberField(required=False)
    sampler = StrictCharField(required=False, max_length=100)
    cfgscale = StrictNumberField(required=False)


class GenerateVideoBody(_GenerationBody):
    input = StrictCharField(required=False, allow_blank=True, max_length=2000)
    controlNetPreset = StrictCharField(required=False, allow_blank=True, max_length=200)  # noqa: N815


# Body name -> internal parameter name.
BODY_PARAMETERS = {
    "steps": "steps",
    "seed": "seed",
    "subseed": "subseed",
    "subseed_strength": "subseed_strength",
    "height": "height",
    "width": "width",
    "sampler": "sampler",
    "cfgscale": "cfg_scale",
    "restoreFaces": "restore_faces",
    "input": "input",
    "controlNetPreset": "control_net_preset",
}


def parameter_values(data: dict) -> dict:
    return {internal: data[name] for name, internal in BODY_PARAMETERS.items() if name in data}


# --- payloads ----------------------------------------------------------------------------------------


def _number(value: float):
    """Whole numbers as integers (7, not 7.0), as the spec's examples write them."""
    return int(value) if float(value).is_integer() else value


def model_payload(model: GenerationModel) -> dict:
    """The Model object."""
    data = {
        "modelID": model.model_id,
        "name": model.name,
        "description": model.description,
        "mediaType": model.media_type,
        "minTier": model.min_tier,
        "tier0Concurrent": model.tier0_concurrent,
        "tier1Concurrent": model.tier1_concurrent,
        "tier2Concurrent": model.tier2_concurrent,
        "positiveTokens": list(model.positive_tokens or []),
        "negativeTokens": list(model.negative_tokens or []),
        "sampleImages": [
            {"imageID": str(image.get("imageID", "")), "url": str(image.get("url", ""))}
            for image in model.sample_images or []
            if isinstance(image, dict)
        ],
        "minSteps": model.min_steps,
        "maxSteps": model.max_steps,
        "allowedWidths": list(model.allowed_widths or []),
        "allowedHeights": list(model.allowed_heights or []),
        "maxResolution": model.max_resolution,
        "defaultResolution": list(model.default_resolution or []),
        "allowedSamplers": list(model.allowed_samplers or []),
        "defaultSampler": model.default_sampler,
        "minCfgScale": _number(model.min_cfg_scale),
        "maxCfgScale": _number(model.max_cfg_scale),
        "supportsVariations": model.supports_variations,
        "registrationWall": model.registration_wall,
        "defaultFaceFix": model.default_face_fix,
    }
    if model.wiki_url:
        data["wikiURL"] = model.wiki_url
    return data


def prompt_payload(prompt: SamplePrompt) -> dict:
    """The Prompt object."""
    data = {"positivePrompt": prompt.positive_prompt}
    if prompt.negative_prompt:
        data["negativePrompt"] = prompt.negative_prompt
    if prompt.user_id:
        data["userID"] = str(prompt.user_id)
    return data


def item_status(item: Item, job: GenerationJob | None) -> str:
    """queued, running, completed, failed or cancelled."""
    if item.status == Item.Status.COMPLETED:
        return item.status
    if job is not None and job.status in (
        GenerationJob.Status.QUEUED,
        GenerationJob.Status.RUNNING,
        GenerationJob.Status.CANCELLED,
    ):
        return job.status
    return item.status


def generation_status_payload(item: Item, job: GenerationJob | None, *, request, position: int | None) -> dict:
    """The GenerationStatus object of one item (``position``: its queue position while queued)."""
    status = item_status(item, job)
    data = {"imageID": str(item.pk)}
    folder_id = item.folder_id or (job.folder_id if job is not None and status != Item.Status.COMPLETED else None)
    if folder_id:
        data["folderID"] = str(folder_id)
    data["status"] = status
    data["ignoredWords"] = ", ".join(job.ignored_words) if job is not None else ""
    data["mtype"] = item.media_kind
    if item.file_id and status == Item.Status.COMPLETED:
        data["url"] = public_file_url(item.file_id, request)
    if status == GenerationJob.Status.QUEUED and position is not None:
        data["queuePosition"] = position
    if item.media_kind == Item.MediaKind.VIDEO:
        frames = (item.parameters or {}).get("frames") or []
        data["frames"] = [
            {"frameCount": len(frames), "frameNumber": number, "frameUrl": public_file_url(file_id, request)}
            for number, file_id in enumerate(frames)
        ]
    return data
