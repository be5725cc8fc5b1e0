"""Generation parameters: validated against the model, completed with its defaults, and turned into
the provider's ``GenerationRequest``.

``validate_parameters`` takes the values a client sent under their internal names (``steps``,
``width``, ``height``, ``sampler``, ``cfg_scale``, ``seed``, ``subseed``, ``subseed_strength``,
``restore_faces``, ``loras``) and returns the complete parameter set a job stores. Every violation
is reported at once, each naming the parameter as the client wrote it and the values allowed.
"""

from __future__ import annotations

import secrets

from django.conf import settings

from apps.core.errors import InvalidInput

from ..models import GenerationJob, GenerationModel
from ..models.catalogue import CFG_SCALE_RANGE
from ..providers.base import GenerationRequest

MAX_SEED = 2**32 - 1
MAX_LORAS = 8
# The AIMG names of the parameters, for error messages.
WIRE_NAMES = {
    "steps": "steps",
    "width": "width",
    "height": "height",
    "sampler": "sampler",
    "cfg_scale": "cfgscale",
    "seed": "seed",
    "subseed": "subseed",
    "subseed_strength": "subseed_strength",
    "restore_faces": "restoreFaces",
    "loras": "loras",
    "model": "modelName",
}


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _whole(value) -> bool:
    return _number(value) and float(value).is_integer()


def _list(values) -> str:
    return ", ".join(str(value) for value in values)


def _fmt(value: float) -> str:
    return f"{value:g}"


def cfg_range(model: GenerationModel) -> tuple[float, float]:
    """The model's CFG range inside the [1, 12] every model keeps to."""
    return max(CFG_SCALE_RANGE[0], model.min_cfg_scale), min(CFG_SCALE_RANGE[1], model.max_cfg_scale)


def random_seed() -> int:
    return secrets.randbelow(MAX_SEED + 1)


def validate_parameters(*, model: GenerationModel, values: dict, names: dict | None = None) -> dict:
    """The complete, checked parameters for ``model``; InvalidInput naming every bad one.

    ``names`` maps internal names to the names the caller's clients use (AIMG names by default).
    Seeds that are absent or -1 are drawn at random (so the item records the seed that was used).
    """
    names = {**WIRE_NAMES, **(names or {})}
    problems: dict[tuple, list[str]] = {}

    def bad(key: str, message: str) -> None:
        problems.setdefault((names.get(key, key),), []).append(message)

    out: dict = {}

    steps = values.get("steps")
    if steps is None:
        steps = model.default_steps
    if not _whole(steps) or not model.min_steps <= steps <= model.max_steps:
        bad("steps", f"Must be a whole number from {model.min_steps} to {model.max_steps} for {model.model_id}.")
    else:
        out["steps"] = int(steps)

    width = values.get("width")
    height = values.get("height")
    width = model.default_width if width is None else width
    height = model.default_height if height is None else height
    size_ok = True
    if not _whole(width) or int(width) not in [int(w) for w in model.allowed_widths]:
        bad("width", f"Must be one of {_list(model.allowed_widths)} for {model.model_id}.")
        size_ok = False
    if not _whole(height) or int(height) not in [int(h) for h in model.allowed_heights]:
        bad("height", f"Must be one of {_list(model.allowed_heights)} for {model.model_id}.")
        size_ok = False
    if size_ok:
        if int(width) * int(height) > model.max_resolution:
            bad(
                "width",
                f"{int(width)}x{int(height)} is {int(width) * int(height):,} pixels; {model.model_id} allows at most "
                f"{model.max_resolution:,} (maxResolution). Choose a smaller width or height.",
            )
        else:
            out["width"], out["height"] = int(width), int(height)

    sampler = values.get("sampler")
    sampler = model.default_sampler if sampler is None else sampler
    if not isinstance(sampler, str) or sampler not in model.allowed_samplers:
        bad("sampler", f"Must be one of {_list(model.allowed_samplers)} for {model.model_id}.")
    else:
        out["sampler"] = sampler

    low, high = cfg_range(model)
    cfg = values.get("cfg_scale")
    cfg = model.default_cfg_scale if cfg is None else cfg
    if not _number(cfg) or not low <= float(cfg) <= high:
        bad("cfg_scale", f"Must be a number from {_fmt(low)} to {_fmt(high)} for {model.model_id}.")
    else:
        out["cfg_scale"] = float(cfg)

    for key in ("seed", "subseed"):
        value = values.get(key)
        if value is None or (_whole(value) and int(value) == -1):
            out[key] = random_seed()
        elif not _whole(value) or not 0 <= value <= MAX_SEED:
            bad(key, f"Must be a whole number from 0 to {MAX_SEED}, or -1 for a random one.")
        else:
            out[key] = int(value)

    strength = values.get("subseed_strength")
    strength = 0.0 if strength is None else strength
    if not _number(strength) or not 0 <= float(strength) <= 1:
        bad("subseed_strength", "Must be a number from 0 to 1.")
    elif float(strength) > 0 and not model.supports_variations:
        bad("subseed_strength", f"Must be 0: {model.model_id} does not support variations.")
    else:
        out["subseed_strength"] = float(strength)

    restore = values.get("restore_faces")
    restore = model.default_face_fix if restore is None else restore
    if not isinstance(restore, bool):
        bad("restore_faces", "Must be true or false.")
    else:
        out["restore_faces"] = restore

    loras = values.get("loras") or []
    clean_loras = _loras(loras, bad)
    if clean_loras is not None:
        out["loras"] = clean_loras

    if model.makes_video:
        out["frame_count"] = int(model.frame_count or 8)

    for key in ("input", "control_net_preset"):
        if values.get(key) not in (None, ""):
            out[key] = values[key]

    if problems:
        first = next(iter(problems.items()))
        raise InvalidInput(f"{first[0][0]}: {first[1][0]}", errors=problems, code="invalid_parameters")
    return out


def _loras(loras, bad) -> list | None:
    if not isinstance(loras, list) or len(loras) > MAX_LORAS:
        bad("loras", f"Must be a list of at most {MAX_LORAS} {{name, strength}} objects.")
        return None
    clean = []
    for entry in loras:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not entry["name"].strip()
            or not _number(entry.get("strength", 1))
        ):
            bad("loras", 'Each LoRA must be an object {"name": "...", "strength": 0.8}.')
            return None
        clean.append({"name": entry["name"].strip(), "strength": float(entry.get("strength", 1))})
    return clean


def job_timeout(model: GenerationModel | None) -> float:
    if model is not None and model.timeout_seconds:
        return float(model.timeout_seconds)
    return float(getattr(settings, "GENERATION_JOB_TIMEOUT", 600))


def build_request(job: GenerationJob, model: GenerationModel | None) -> GenerationRequest:
    """What the provider is asked to make for ``job``."""
    parameters = job.parameters or {}
    workflow = None
    values = dict((job.info or {}).get("workflow_values") or {})
    if job.workflow_template_id is not None:
        workflow = _workflow_json(job)
        # The run values were written before the prompt policy ran: give the provider the filtered prompts.
        for marker, value in list(values.items()):
            if job.raw_prompt and value == job.raw_prompt:
                values[marker] = job.prompt
            elif job.raw_negative_prompt and value == job.raw_negative_prompt:
                values[marker] = job.negative_prompt
    config = dict(model.provider_config or {}) if model is not None else {}
    if model is not None:
        config.setdefault("frame_duration_ms", model.frame_duration_ms)
    return GenerationRequest(
        job_id=str(job.pk),
        model_id=job.model_id,
        prompt=job.prompt,
        negative_prompt=job.negative_prompt,
        media="video" if job.kind == GenerationJob.Kind.VIDEO else "image",
        width=int(parameters.get("width", 512)),
        height=int(parameters.get("height", 512)),
        steps=int(parameters.get("steps", 20)),
        cfg_scale=float(parameters.get("cfg_scale", 7.0)),
        sampler=str(parameters.get("sampler", "")),
        seed=int(parameters.get("seed", 0)),
        subseed=int(parameters.get("subseed", 0)),
        subseed_strength=float(parameters.get("subseed_strength", 0.0)),
        restore_faces=bool(parameters.get("restore_faces", False)),
        batch_size=job.batch_size,
        frame_count=int(parameters.get("frame_count", 0)),
        loras=tuple((lora["name"], float(lora.get("strength", 1))) for lora in parameters.get("loras", [])),
        workflow=workflow,
        workflow_values=values,
        config=config,
        timeout=job_timeout(model),
    )


def _workflow_json(job: GenerationJob) -> dict | None:
    """The template's ComfyUI workflow (API format, with its ``replaceFromString`` markers)."""
    workflow = getattr(job.workflow_template, "workflow", None)
    return workflow if isinstance(workflow, dict) else None
