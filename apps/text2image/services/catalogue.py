"""Writes of the model catalogue: loading models from a JSON file (``load_models``), sample prompts.

The file is a JSON list of AIMG Model objects (``modelID``, ``name``, ``minTier``, ``allowedWidths``,
...) with the engine's own keys beside them: ``provider``, ``providerConfig``, ``enabled``,
``position``, ``defaultSteps``, ``defaultCfgScale``, ``frameCount``, ``frameDurationMs``,
``queueName``, ``runtimeBaseSeconds``, ``runtimePerStepMegapixel``, ``timeoutSeconds``. Loading is
an upsert by ``modelID``: running it again changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.errors import InvalidInput

from ..models import GenerationModel, SamplePrompt

# File key -> model field.
FIELDS = {
    "name": "name",
    "description": "description",
    "mediaType": "media_type",
    "minTier": "min_tier",
    "tier0Concurrent": "tier0_concurrent",
    "tier1Concurrent": "tier1_concurrent",
    "tier2Concurrent": "tier2_concurrent",
    "positiveTokens": "positive_tokens",
    "negativeTokens": "negative_tokens",
    "sampleImages": "sample_images",
    "minSteps": "min_steps",
    "maxSteps": "max_steps",
    "defaultSteps": "default_steps",
    "allowedWidths": "allowed_widths",
    "allowedHeights": "allowed_heights",
    "maxResolution": "max_resolution",
    "defaultResolution": "default_resolution",
    "allowedSamplers": "allowed_samplers",
    "defaultSampler": "default_sampler",
    "minCfgScale": "min_cfg_scale",
    "maxCfgScale": "max_cfg_scale",
    "defaultCfgScale": "default_cfg_scale",
    "supportsVariations": "supports_variations",
    "registrationWall": "registration_wall",
    "defaultFaceFix": "default_face_fix",
    "wikiURL": "wiki_url",
    "provider": "provider",
    "providerConfig": "provider_config",
    "enabled": "enabled",
    "position": "position",
    "frameCount": "frame_count",
    "frameDurationMs": "frame_duration_ms",
    "queueName": "queue_name",
    "runtimeBaseSeconds": "runtime_base_seconds",
    "runtimePerStepMegapixel": "runtime_per_step_megapixel",
    "timeoutSeconds": "timeout_seconds",
}
DEFAULT_FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "models.json"


@dataclass
class LoadResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _fields(entry: dict, position: int) -> tuple[str, dict]:
    if not isinstance(entry, dict):
        raise InvalidInput(f"Entry {position} is not a JSON object.")
    model_id = entry.get("modelID")
    if not isinstance(model_id, str) or not model_id.strip():
        raise InvalidInput(f"Entry {position} has no modelID.")
    unknown = sorted(set(entry) - set(FIELDS) - {"modelID"})
    if unknown:
        raise InvalidInput(f"{model_id}: unknown keys {', '.join(unknown)}; known keys: modelID, {', '.join(FIELDS)}.")
    return model_id.strip(), {FIELDS[key]: value for key, value in entry.items() if key != "modelID"}


def check_lists(model: GenerationModel) -> None:
    problems = []
    for name in ("allowed_widths", "allowed_heights"):
        values = getattr(model, name)
        if not isinstance(values, list) or not values or not all(isinstance(v, int) and v > 0 for v in values):
            problems.append(f"{name} must be a non-empty list of positive whole numbers")
    if not isinstance(model.allowed_samplers, list) or not all(isinstance(v, str) for v in model.allowed_samplers):
        problems.append("allowed_samplers must be a list of names")
    elif model.default_sampler not in model.allowed_samplers:
        problems.append("default_sampler must be one of allowed_samplers")
    resolution = model.default_resolution
    if not (isinstance(resolution, list) and len(resolution) == 2 and all(isinstance(v, int) for v in resolution)):
        problems.append("default_resolution must be [width, height]")
    elif not problems and (
        resolution[0] not in model.allowed_widths
        or resolution[1] not in model.allowed_heights
        or resolution[0] * resolution[1] > model.max_resolution
    ):
        problems.append("default_resolution must be an allowed width and height within max_resolution")
    if not isinstance(model.provider_config, dict):
        problems.append("provider_config must be a JSON object")
    if problems:
        raise ValidationError("; ".join(problems))


def validate_model(model: GenerationModel) -> None:
    """ValidationError unless the model is consistent (field types, ranges, lists, defaults)."""
    model.full_clean(validate_unique=False)
    check_lists(model)


@transaction.atomic
def load_models(*, entries: list) -> LoadResult:
    """Create or update catalogue models from AIMG-shaped entries; all or nothing."""
    if not isinstance(entries, list):
        raise InvalidInput("The models file must hold a JSON list of models.")
    result = LoadResult()
    for position, entry in enumerate(entries):
        model_id, values = _fields(entry, position)
        model = GenerationModel.objects.select_for_update().filter(model_id=model_id).first()
        created = model is None
        if created:
            model = GenerationModel(model_id=model_id)
        before = {name: getattr(model, name) for name in values}
        for name, value in values.items():
            setattr(model, name, value)
        try:
            validate_model(model)
        except ValidationError as exc:
            messages = (
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
                if hasattr(exc, "error_dict")
                else "; ".join(exc.messages)
            )
            raise InvalidInput(f"{model_id}: {messages}") from exc
        if created:
            model.save()
            result.created.append(model_id)
        elif before != values:
            model.save()
            result.updated.append(model_id)
        else:
            result.unchanged.append(model_id)
    return result


def load_models_file(path) -> LoadResult:
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InvalidInput(f"There is no file {path}.") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"{path} is not valid JSON: {exc}") from exc
    return load_models(entries=entries)


def load_default_models() -> LoadResult:
    return load_models_file(DEFAULT_FIXTURE)


@transaction.atomic
def add_sample_prompt(*, positive_prompt: str, negative_prompt: str = "", user=None, position: int = 0):
    """A sample prompt (idempotent: the same positive prompt is not added twice)."""
    text = (positive_prompt or "").strip()
    if not text:
        raise InvalidInput("A sample prompt needs a positive prompt.", errors={("positivePrompt",): ["Required."]})
    prompt, _ = SamplePrompt.objects.get_or_create(
        positive_prompt=text,
        defaults={"negative_prompt": (negative_prompt or "").strip(), "user": user, "position": position},
    )
    return prompt
