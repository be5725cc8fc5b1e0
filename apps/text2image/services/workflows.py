"""Writes of API2 workflows: importing and validating templates, and enqueueing workflow runs.

A run's values come from the ``parameters`` array (WorkflowRunParameter: name and stringified
value) and from the explicit body fields of enqueueWorkflow, which map onto the template's named
parameters (``EXPLICIT_FIELDS``, ``lora[i]`` → ``Lora i+1``, ``lora_strength[i]`` →
``Lora i+1 Strength``). Every value is checked against its parameter (data type, min/max/increment,
dropdown items, file group); a parameter not given takes its default, and a required one without
default must be given. The values replace the parameters' ``replaceFromString`` markers in the
workflow (``providers.comfyui.substitute``); the well-known parameters also become the job's
generation parameters (size, steps, seed, ...), which the items record and which a template that runs
on the ``procedural`` provider renders.
"""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.billing import selectors as billing
from apps.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, ServiceUnavailable
from apps.folders import selectors as folder_selectors

from ..models import (
    GenerationJob,
    WorkflowFileGroup,
    WorkflowFileGroupFile,
    WorkflowTemplate,
    WorkflowTemplateFile,
    WorkflowTemplateParameter,
)
from ..models.workflows import DEPLOYMENTS
from ..providers.comfyui import marker_occurs
from ..selectors import workflows as selectors
from ..selectors.catalogue import get_model
from . import policy
from .jobs import schedule_job

DataType = WorkflowTemplateParameter.DataType

API2_TIER_MESSAGE = "API2 endpoints are only available to users whose PRO tier is higher than 0."
DEMO_FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "workflow_templates.json"

# enqueueWorkflow body field -> the template parameter it sets.
EXPLICIT_FIELDS = {
    "prompt": "Positive Prompt",
    "negprompt": "Negative Prompt",
    "seed": "Seed",
    "subseed": "Subseed",
    "subseed_strength": "Subseed Strength",
    "steps": "Steps",
    "cfgscale": "CFG Scale",
    "modelName": "Model",
    "height": "Height",
    "width": "Width",
    "batchSize": "Batch Size",
}
NUMBER_PARAMETERS = ("Seed", "Subseed", "Subseed Strength", "Steps", "CFG Scale", "Height", "Width", "Batch Size")
WHOLE_NUMBER_PARAMETERS = ("Seed", "Subseed", "Steps", "Height", "Width", "Batch Size")
RANDOM_SEED = -1  # a Seed or Subseed of -1 asks for a random one
MAX_SEED = 2**32 - 1
MAX_RECORDED_NUMBER = 2**63 - 1
MAX_SIDE = 4096
MIN_SIDE = 64
MAX_BATCH_SIZE = 8
MAX_VALUE_LENGTH = 20_000
_LORA = re.compile(r"^lora (\d+)$")
_LORA_STRENGTH = re.compile(r"^lora (\d+) strength$")
DEFAULTS = {"width": 512, "height": 512, "steps": 20, "cfg_scale": 7.0, "sampler": "DPM++ 2M Karras"}


def _key(name: str) -> str:
    """Parameter names compare without case and with runs of blanks as one space."""
    return " ".join(str(name).split()).casefold()


# --- values ------------------------------------------------------------------------------------------


def _number(text: str) -> float | None:
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _typed_number(value: float) -> int | float:
    return int(value) if value.is_integer() and abs(value) <= MAX_RECORDED_NUMBER else value


def _number_text(value: int | float) -> str:
    return str(value) if isinstance(value, int) else repr(value)


def _shown(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


@dataclass
class Value:
    text: str  # the stringified value (WorkflowRunParameter.value)
    typed: object  # what replaces a marker that is a whole JSON string


def coerce(parameter: WorkflowTemplateParameter, text: str, *, groups: dict[str, list[str]]) -> Value:
    """``text`` as a value of ``parameter``; ValueError with a message a person can act on."""
    kind = parameter.data_type
    if len(text) > MAX_VALUE_LENGTH:
        raise ValueError(f"must be at most {MAX_VALUE_LENGTH} characters long")
    if kind == DataType.NUMBER:
        return _coerce_number(parameter, text)
    if kind == DataType.BOOLEAN:
        folded = text.strip().lower()
        if folded not in ("true", "false"):
            raise ValueError(f"must be true or false (got {_shown(text)})")
        return Value(folded, folded == "true")
    if kind == DataType.DROPDOWN:
        items = [str(item) for item in parameter.dropdown_items or []]
        if text not in items:
            raise ValueError(f"must be one of {', '.join(items) or '(none)'} (got {_shown(text)})")
        return Value(text, text)
    if kind in (DataType.ARRAY, DataType.OBJECT, DataType.FILES):
        return _coerce_json(parameter, text, groups=groups)
    if kind == DataType.FILE:
        _check_in_group(parameter, [text], groups)
        return Value(text, text)
    if kind == DataType.FILES_GROUP:
        if text not in groups:
            raise ValueError(f"must name a file group (got {_shown(text)})")
        return Value(text, text)
    return Value(text, text)


def _coerce_number(parameter: WorkflowTemplateParameter, text: str) -> Value:
    value = _number(text)
    if value is None:
        raise ValueError(f"must be a number (got {_shown(text)})")
    low, high, step = _number(parameter.min), _number(parameter.max), _number(parameter.increment)
    allowed = _range_text(parameter)
    if low is not None and value < low:
        raise ValueError(f"must be at least {parameter.min}{allowed}")
    if high is not None and value > high:
        raise ValueError(f"must be at most {parameter.max}{allowed}")
    if step is not None and step > 0:
        steps = (value - (low or 0.0)) / step
        if abs(steps - round(steps)) > 1e-6:
            raise ValueError(f"must be {parameter.min or '0'} plus a multiple of {parameter.increment}{allowed}")
    typed = _typed_number(value)
    return Value(_number_text(typed), typed)


def _range_text(parameter: WorkflowTemplateParameter) -> str:
    parts = []
    if parameter.min != "" or parameter.max != "":
        parts.append(f"from {parameter.min or '-∞'} to {parameter.max or '∞'}")
    if parameter.increment != "":
        parts.append(f"in steps of {parameter.increment}")
    return f" (allowed: {', '.join(parts)})" if parts else ""


def _coerce_json(parameter: WorkflowTemplateParameter, text: str, *, groups) -> Value:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    kind = parameter.data_type
    if kind == DataType.OBJECT:
        if not isinstance(data, dict):
            raise ValueError("must be a JSON object")
    elif not isinstance(data, list):
        raise ValueError("must be a JSON array")
    if kind == DataType.FILES:
        if not all(isinstance(name, str) and name for name in data):
            raise ValueError("must be a JSON array of file names")
        _check_in_group(parameter, data, groups)
    return Value(json.dumps(data, separators=(",", ":")), data)


def _check_in_group(parameter: WorkflowTemplateParameter, names: list[str], groups) -> None:
    if not parameter.file_group:
        return
    allowed = groups.get(parameter.file_group, [])
    for name in names:
        if name not in allowed:
            raise ValueError(f"must be a file of the group {parameter.file_group} (got {_shown(name)})")


# --- a run -------------------------------------------------------------------------------------------


@dataclass
class RunPlan:
    """The checked values of one run of a template."""

    values: dict[str, Value] = field(default_factory=dict)  # by parameter name, template order

    def named(self, name: str) -> Value | None:
        for key, value in self.values.items():
            if _key(key) == _key(name):
                return value
        return None


def _given_values(template, parameters: list[dict], explicit: dict) -> tuple[dict, dict]:
    """(given text by parameter, where each came from) or InvalidInput naming every problem."""
    by_key = {_key(p.name): p for p in template.parameters.all()}
    given: dict[str, str] = {}
    source: dict[str, str] = {}
    errors: dict[tuple, list[str]] = {}

    def put(name: str, text: str, origin: str) -> None:
        parameter = by_key.get(_key(name))
        if parameter is None:
            known = ", ".join(p.name for p in template.parameters.all() if not p.is_hidden) or "none"
            errors[(origin,)] = [f"The template {template.name} has no parameter {name!r} (its parameters: {known})."]
            return
        if parameter.is_hidden:
            errors[(origin,)] = [f"{parameter.name} is set by the template and cannot be changed."]
            return
        if parameter.name in given and given[parameter.name] != text:
            errors[(origin,)] = [f"{parameter.name} is given twice with different values ({source[parameter.name]})."]
            return
        if parameter.name in given and origin.startswith("parameters"):
            errors[(origin,)] = [f"{parameter.name} is given twice."]
            return
        given[parameter.name] = text
        source.setdefault(parameter.name, origin)

    for index, entry in enumerate(parameters):
        put(entry["name"], entry["value"], f"parameters[{index}]")
    for body_field, name in EXPLICIT_FIELDS.items():
        if body_field in explicit:
            put(name, _explicit_text(explicit[body_field]), body_field)
    loras = explicit.get("lora") or []
    strengths = explicit.get("lora_strength")
    if strengths is not None and len(strengths) != len(loras):
        errors[("lora_strength",)] = [
            f"lora_strength must have one strength per lora name ({len(loras)} names, {len(strengths)} strengths)."
        ]
    else:
        for index, name in enumerate(loras):
            put(f"Lora {index + 1}", name, f"lora[{index}]")
        for index, strength in enumerate(strengths or []):
            put(f"Lora {index + 1} Strength", _explicit_text(strength), f"lora_strength[{index}]")
    if errors:
        raise InvalidInput(errors=errors)
    return given, source


def _explicit_text(value) -> str:
    if isinstance(value, float):
        return _number_text(_typed_number(value))
    return str(value)


def _asks_random_seed(parameter: WorkflowTemplateParameter, text: str) -> bool:
    """A Seed or Subseed number parameter whose value is -1 (draw one at random)."""
    return (
        _key(parameter.name) in ("seed", "subseed")
        and parameter.data_type == DataType.NUMBER
        and _number(text) == RANDOM_SEED
    )


def _random_seed(parameter: WorkflowTemplateParameter) -> int:
    low = max(int(_number(parameter.min) or 0), 0)
    high = _number(parameter.max)
    high = min(int(high), MAX_SEED) if high is not None else MAX_SEED
    return random.randint(low, max(low, high))  # noqa: S311 - a seed, not a secret


def plan_run(template: WorkflowTemplate, *, parameters: list[dict], explicit: dict) -> RunPlan:
    """Check a run's values against ``template``; InvalidInput naming each bad parameter."""
    given, source = _given_values(template, parameters, explicit)
    groups = selectors.file_groups(p.file_group for p in template.parameters.all() if p.file_group)
    if any(p.data_type == DataType.FILES_GROUP for p in template.parameters.all()):
        groups.update(selectors.file_groups(given.values()))
    plan = RunPlan()
    errors: dict[tuple, list[str]] = {}
    for parameter in template.parameters.all():
        name = parameter.name
        text = given.get(name, parameter.default_value)
        origin = f" (given as {source[name]})" if name in source and not source[name].startswith("parameters") else ""
        if text == "":
            if not parameter.is_optional:
                errors[(name,)] = [f"This parameter is required: give it in parameters{_also_as(name)}."]
            else:
                plan.values[name] = Value("", "")
            continue
        if _asks_random_seed(parameter, text):
            text = str(_random_seed(parameter))
        try:
            value = coerce(parameter, text, groups=groups)
            _check_generation_value(name, value)
        except ValueError as exc:
            message = str(exc)
            errors[(name,)] = [f"{message[:1].upper()}{message[1:]}{origin}."]
            continue
        plan.values[name] = value
    if errors:
        raise InvalidInput(errors=errors)
    return plan


def _also_as(name: str) -> str:
    fields = [body for body, target in EXPLICIT_FIELDS.items() if _key(target) == _key(name)]
    if _LORA.match(_key(name)):
        fields.append("lora")
    elif _LORA_STRENGTH.match(_key(name)):
        fields.append("lora_strength")
    return f" or as {fields[0]}" if fields else ""


def _check_generation_value(name: str, value: Value) -> None:
    """Limits of the well-known parameters, whatever the template allows."""
    key = _key(name)
    if key not in {_key(n) for n in NUMBER_PARAMETERS} and not _LORA_STRENGTH.match(key):
        return
    number = value.typed
    if not isinstance(number, (int, float)) or isinstance(number, bool):
        raise ValueError("must be a number")
    if key in {_key(n) for n in WHOLE_NUMBER_PARAMETERS} and not float(number).is_integer():
        raise ValueError(f"must be a whole number (got {value.text})")
    if key in ("width", "height") and not MIN_SIDE <= number <= MAX_SIDE:
        raise ValueError(f"must be between {MIN_SIDE} and {MAX_SIDE} (got {value.text})")
    if key == "batch size" and not 1 <= number <= MAX_BATCH_SIZE:
        raise ValueError(f"must be between 1 and {MAX_BATCH_SIZE} (got {value.text})")
    if key == "steps" and not 1 <= number <= 1000:
        raise ValueError(f"must be between 1 and 1000 (got {value.text})")
    if key in ("seed", "subseed") and not 0 <= number <= MAX_SEED:
        raise ValueError(f"must be between 0 and {MAX_SEED}, or -1 for a random one (got {value.text})")


def generation_parameters(plan: RunPlan) -> dict:
    """The job's generation parameters from the well-known parameters (defaults for the rest)."""

    def number(name, default):
        value = plan.named(name)
        return value.typed if value is not None and isinstance(value.typed, (int, float)) else default

    loras = []
    for name, value in plan.values.items():
        match = _LORA.match(_key(name))
        if match and value.text:
            strength = plan.named(f"Lora {match.group(1)} Strength")
            loras.append({"name": value.text, "strength": strength.typed if strength and strength.text else 1.0})
    seed = number("Seed", None)
    return {
        "width": int(number("Width", DEFAULTS["width"])),
        "height": int(number("Height", DEFAULTS["height"])),
        "steps": int(number("Steps", DEFAULTS["steps"])),
        "cfg_scale": float(number("CFG Scale", DEFAULTS["cfg_scale"])),
        "sampler": DEFAULTS["sampler"],
        "seed": int(seed) if seed is not None else random.randint(0, MAX_SEED),  # noqa: S311
        "subseed": int(number("Subseed", 0)),
        "subseed_strength": float(number("Subseed Strength", 0.0)),
        "restore_faces": False,
        "loras": loras,
    }


def run_parameters(template: WorkflowTemplate, plan: RunPlan, *, texts: dict[str, str] | None = None) -> list[dict]:
    """WorkflowRunParameter objects of the run: every parameter but the hidden ones, in template order,
    with the value the workflow got (``texts``: free text as the prompt policy left it)."""
    texts = texts or {}
    hidden = {p.name for p in template.parameters.all() if p.is_hidden}
    shown = [(name, value) for name, value in plan.values.items() if name not in hidden]
    return [{"name": name, "value": texts.get(name, value.text)} for name, value in shown]


def marker_values(template: WorkflowTemplate, plan: RunPlan, *, texts: dict[str, str] | None = None) -> dict:
    """The run values by ``replaceFromString`` marker; ``texts`` replaces the values of some
    parameters (their text as the prompt policy left it)."""
    texts = texts or {}
    values = {}
    for parameter in template.parameters.all():
        value = plan.values.get(parameter.name)
        if value is not None:
            values[parameter.replace_from_string] = texts.get(parameter.name, value.typed)
    return values


def policed_texts(template: WorkflowTemplate, plan: RunPlan) -> dict[str, str]:
    """Every free-text value of the run after the prompt policy (InvalidInput when one is refused).

    The Positive and Negative Prompt parameters are checked as the prompt pair; any other string
    parameter a user set is checked as a prompt of its own, so no text reaches the workflow unchecked.
    """
    prompt, negative = plan.named("Positive Prompt"), plan.named("Negative Prompt")
    outcome = policy.apply_policy(
        prompt=prompt.text if prompt else "", negative_prompt=negative.text if negative else ""
    )
    texts = {}
    hidden = {p.name for p in template.parameters.all() if p.is_hidden}
    for parameter in template.parameters.all():
        value = plan.values.get(parameter.name)
        if value is None:
            continue
        if prompt is not None and value is prompt:
            texts[parameter.name] = outcome.prompt
        elif negative is not None and value is negative:
            texts[parameter.name] = outcome.negative_prompt
        elif parameter.data_type == DataType.STRING and value.text and parameter.name not in hidden:
            try:
                texts[parameter.name] = policy.apply_policy(prompt=value.text).prompt
            except InvalidInput as exc:
                raise InvalidInput(exc.message, errors={(parameter.name,): [exc.message]}, code=exc.code) from exc
    return texts


def enqueue_workflow(
    *,
    user,
    template_name: str,
    parameters: list[dict] | None = None,
    explicit: dict | None = None,
    folder_id: str | None = None,
) -> GenerationJob:
    """Start a run of the template ``template_name`` for ``user`` (PRO tier > 0): check the values,
    then schedule a ``workflow`` job on the template's model (prompt policy, abuse level,
    concurrency, placeholder items: ``services.jobs.schedule_job``)."""
    if billing.effective_tier(user) <= 0:
        raise PermissionDenied(API2_TIER_MESSAGE)
    template = selectors.available_template(user=user, name=template_name)
    if template is None:
        raise NotFound(f"There is no workflow template named {template_name!r} available here.")
    plan = plan_run(template, parameters=list(parameters or []), explicit=dict(explicit or {}))
    model = _model_of(template)
    generation = generation_parameters(plan)
    pixels = generation["width"] * generation["height"]
    if pixels > model.max_resolution:
        message = (
            f"{generation['width']}x{generation['height']} is {pixels:,} pixels; the template's model allows at most "
            f"{model.max_resolution:,}. Choose a smaller Width or Height."
        )
        raise InvalidInput(message, errors={("Width",): [message]})
    folder = folder_selectors.resolve_target_folder(user=user, folder_id=folder_id) if folder_id else None
    prompt = plan.named("Positive Prompt")
    negative = plan.named("Negative Prompt")
    raw_prompt = prompt.text if prompt is not None else ""
    raw_negative = negative.text if negative is not None else ""
    texts = policed_texts(template, plan)
    batch = plan.named("Batch Size")
    return schedule_job(
        owner=user,
        model=model,
        kind=GenerationJob.Kind.WORKFLOW,
        raw_prompt=raw_prompt,
        raw_negative_prompt=raw_negative,
        parameters=generation,
        batch_size=int(batch.typed) if batch is not None and batch.text else 1,
        folder=folder,
        workflow_template=template,
        workflow_parameters=run_parameters(template, plan, texts=texts),
        workflow_values=marker_values(template, plan, texts=texts),
    )


def _model_of(template: WorkflowTemplate):
    model = get_model(template.model_id)
    if model is None or not model.enabled:
        raise ServiceUnavailable(f"The workflow template {template.name} cannot run now: its model is not available.")
    return model


# --- template validation -------------------------------------------------------------------------------


def template_problems(template: WorkflowTemplate) -> list[str]:
    """What keeps ``template`` from running (empty when it is valid)."""
    problems = []
    if not template.model_id:
        problems.append("It names no model to run on (modelID).")
    elif get_model(template.model_id) is None:
        problems.append(f"Its model {template.model_id!r} is not in the catalogue.")
    workflow = template.workflow
    if not isinstance(workflow, dict) or not workflow:
        problems.append("Its workflow is empty: give the ComfyUI workflow in API format.")
        workflow = {}
    for node_id, node in workflow.items():
        if not (
            isinstance(node, dict) and isinstance(node.get("class_type"), str) and isinstance(node.get("inputs"), dict)
        ):
            problems.append(f"Workflow node {node_id} needs a class_type and an inputs object.")
    parameters = list(template.parameters.all())
    seen: set[str] = set()
    groups = selectors.file_groups(p.file_group for p in parameters if p.file_group)
    for parameter in parameters:
        name = parameter.name
        if _key(name) in seen:
            problems.append(f"Two parameters are named {name!r}.")
        seen.add(_key(name))
        if workflow and not marker_occurs(workflow, parameter.replace_from_string):
            problems.append(f"The marker {parameter.replace_from_string!r} of {name} does not occur in the workflow.")
        problems.extend(_parameter_problems(parameter, groups))
    return problems


def _parameter_problems(parameter: WorkflowTemplateParameter, groups) -> list[str]:
    name = parameter.name
    problems = []
    if parameter.data_type not in DataType.values:
        return [f"{name} has an unknown dataType {parameter.data_type!r}."]
    if parameter.data_type == DataType.NUMBER:
        for label, text in (("min", parameter.min), ("max", parameter.max), ("increment", parameter.increment)):
            if text != "" and _number(text) is None:
                problems.append(f"The {label} of {name} is not a number ({text!r}).")
        low, high = _number(parameter.min), _number(parameter.max)
        if low is not None and high is not None and low > high:
            problems.append(f"The min of {name} is larger than its max.")
    elif _key(name) in {_key(n) for n in NUMBER_PARAMETERS}:
        problems.append(f"{name} must have the dataType number.")
    if parameter.data_type == DataType.DROPDOWN and not parameter.dropdown_items:
        problems.append(f"{name} is a dropdown without dropdownItems.")
    if parameter.file_group and parameter.file_group not in groups:
        problems.append(f"{name} refers to the file group {parameter.file_group!r}, which does not exist.")
    if parameter.default_value != "":
        try:
            if not _asks_random_seed(parameter, parameter.default_value):
                value = coerce(parameter, parameter.default_value, groups=groups)
                _check_generation_value(name, value)
        except ValueError as exc:
            problems.append(f"The default value of {name} {exc}.")
    elif not parameter.is_optional and parameter.is_hidden:
        problems.append(f"{name} is required and hidden but has no default value: no run could set it.")
    return problems


@transaction.atomic
def validate_template(*, template: WorkflowTemplate) -> WorkflowTemplate:
    """Check ``template`` and record the outcome in its ``validation_status`` (valid or invalid)."""
    problems = template_problems(template)
    status = WorkflowTemplate.ValidationStatus.INVALID if problems else WorkflowTemplate.ValidationStatus.VALID
    if (template.validation_status, template.validation_errors) != (status, problems):
        template.validation_status = status
        template.validation_errors = problems
        template.save(update_fields=["validation_status", "validation_errors", "updated_at"])
    return template


# --- deletion ---------------------------------------------------------------------------------------------


@transaction.atomic
def delete_templates(*, templates) -> int:
    """Soft-delete templates (their runs keep pointing at them); restorable."""
    ids = [t.pk for t in templates]
    return WorkflowTemplate.objects.filter(pk__in=ids).update(deleted_at=timezone.now())


@transaction.atomic
def restore_template(*, template: WorkflowTemplate) -> WorkflowTemplate:
    """Bring a deleted template back, unless a live template took its name meanwhile (409)."""
    template = WorkflowTemplate.all_objects.select_for_update().get(pk=template.pk)
    if template.deleted_at is None:
        return template
    if WorkflowTemplate.objects.filter(name=template.name).exists():
        raise Conflict(f"A workflow template named {template.name!r} exists: rename it before restoring this one.")
    template.deleted_at = None
    template.save(update_fields=["deleted_at", "updated_at"])
    return template


# --- import -----------------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    invalid: dict[str, list[str]] = field(default_factory=dict)
    groups_created: list[str] = field(default_factory=list)
    groups_updated: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        for label, names in (
            ("created", self.created),
            ("updated", self.updated),
            ("unchanged", self.unchanged),
            ("file groups created", self.groups_created),
            ("file groups updated", self.groups_updated),
        ):
            if names:
                out.append(f"{label}: {', '.join(names)}")
        for name, problems in self.invalid.items():
            out.append(f"invalid: {name}: {' '.join(problems)}")
        return out or ["nothing to import"]


class _Reader:
    """Checks the shape of an import document, collecting every problem with its path."""

    def __init__(self):
        self.errors: dict[tuple, list[str]] = {}

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault((path,), []).append(message)

    def text(self, data: dict, key: str, path: str, *, required=False, default="", limit=None) -> str:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(f"{path}.{key}", "This field is required.")
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.fail(f"{path}.{key}", "Must be a string.")
            return default
        value = value if isinstance(value, str) else _number_text(_typed_number(float(value)))
        if required and not value.strip():
            self.fail(f"{path}.{key}", "Must not be empty.")
        if limit and len(value) > limit:
            self.fail(f"{path}.{key}", f"Must be at most {limit} characters long.")
        return value

    def flag(self, data: dict, key: str, path: str, default=False) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{path}.{key}", "Must be true or false.")
            return default
        return value

    def names(self, data: dict, key: str, path: str) -> list[str]:
        value = data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{path}.{key}", "Must be an array of strings.")
            return []
        return list(value)


def _read_parameter(reader: _Reader, data, path: str, position: int) -> dict | None:
    if not isinstance(data, dict):
        reader.fail(path, "Must be a WorkflowTemplateParameter object.")
        return None
    data_type = data.get("dataType", "string")
    if data_type not in DataType.values:
        reader.fail(f"{path}.dataType", f"Must be one of {', '.join(DataType.values)}.")
    return {
        "position": position,
        "name": reader.text(data, "name", path, required=True, limit=200),
        "type": reader.text(data, "type", path, limit=100),
        "data_type": data_type,
        "ui_type": reader.text(data, "uiType", path, limit=100),
        "description": reader.text(data, "description", path),
        "default_value": reader.text(data, "defaultValue", path),
        "user_value": reader.text(data, "userValue", path),
        "replace_from_string": reader.text(data, "replaceFromString", path, required=True, limit=200),
        "extra_data": data.get("extraData"),
        "is_optional": reader.flag(data, "isOptional", path),
        "min": reader.text(data, "min", path, limit=50),
        "max": reader.text(data, "max", path, limit=50),
        "increment": reader.text(data, "increment", path, limit=50),
        "option_name": reader.text(data, "optionName", path, limit=200),
        "is_always_visible": reader.flag(data, "isAlwaysVisible", path),
        "is_hidden": reader.flag(data, "isHidden", path),
        "file_group": reader.text(data, "fileGroup", path, limit=200),
        "file_group_destination": reader.text(data, "fileGroupDestination", path, limit=500),
        "dropdown_items": [str(v) for v in reader.names(data, "dropdownItems", path)],
    }


def _read_template(reader: _Reader, data, path: str) -> dict | None:
    if not isinstance(data, dict):
        reader.fail(path, "Must be a WorkflowTemplate object.")
        return None
    deployments = reader.names(data, "deployments", path)
    for name in deployments:
        if name not in DEPLOYMENTS:
            reader.fail(f"{path}.deployments", f"Unknown deployment {name!r}: use {' or '.join(DEPLOYMENTS)}.")
    parameters_data = data.get("parameters", [])
    if not isinstance(parameters_data, list):
        reader.fail(f"{path}.parameters", "Must be an array of WorkflowTemplateParameter objects.")
        parameters_data = []
    parameters = [_read_parameter(reader, item, f"{path}.parameters[{i}]", i) for i, item in enumerate(parameters_data)]
    names = [_key(p["name"]) for p in parameters if p]
    if len(names) != len(set(names)):
        reader.fail(f"{path}.parameters", "Two parameters have the same name.")
    files_data = data.get("workflowTemplateFiles", {}) or {}
    files = []
    if not isinstance(files_data, dict):
        reader.fail(f"{path}.workflowTemplateFiles", "Must be an object of WorkflowTemplateFile objects keyed by name.")
    else:
        for name, file in files_data.items():
            file_path = f"{path}.workflowTemplateFiles.{name}"
            if not isinstance(file, dict):
                reader.fail(file_path, "Must be a WorkflowTemplateFile object.")
                continue
            files.append(
                {
                    "name": str(name)[:200],
                    "file_names": reader.names(file, "fileNames", file_path),
                    "support_file_type": reader.text(file, "supportFileType", file_path, limit=100),
                }
            )
    workflow = data.get("workflow", {})
    if not isinstance(workflow, dict):
        reader.fail(f"{path}.workflow", "Must be the ComfyUI workflow (an object of nodes).")
        workflow = {}
    organization = data.get("organization")
    if organization is not None and not (isinstance(organization, dict) and isinstance(organization.get("slug"), str)):
        reader.fail(f"{path}.organization", 'Must be null or {"domain": code, "slug": slug}.')
        organization = None
    return {
        "name": reader.text(data, "name", path, required=True, limit=200).strip(),
        "description": reader.text(data, "description", path),
        "deployments": deployments,
        "model_id": reader.text(data, "modelID", path, limit=200),
        "organization": organization,
        "parameters": [p for p in parameters if p],
        "files": files,
        "workflow": workflow,
    }


def _read_group(reader: _Reader, data, path: str) -> dict | None:
    if not isinstance(data, dict):
        reader.fail(path, "Must be a file group object.")
        return None
    names = reader.names(data, "fileNames", path)
    if len(names) != len(set(names)):
        reader.fail(f"{path}.fileNames", "A file name is listed twice.")
    return {
        "name": reader.text(data, "name", path, required=True, limit=200).strip(),
        "description": reader.text(data, "description", path),
        "file_names": names,
    }


def read_document(document) -> tuple[list[dict], list[dict]]:
    """(templates, file groups) of an import document; InvalidInput listing every problem.

    The document is ``{"workflowTemplates": [...], "fileGroups": [...]}`` (as exported) or a bare
    array of templates.
    """
    reader = _Reader()
    if isinstance(document, list):
        document = {"workflowTemplates": document}
    if not isinstance(document, dict):
        raise InvalidInput("The document must be an object with workflowTemplates and fileGroups, or an array.")
    templates_data = document.get("workflowTemplates", [])
    groups_data = document.get("fileGroups", [])
    if not isinstance(templates_data, list):
        reader.fail("workflowTemplates", "Must be an array.")
        templates_data = []
    if not isinstance(groups_data, list):
        reader.fail("fileGroups", "Must be an array.")
        groups_data = []
    templates = [_read_template(reader, t, f"workflowTemplates[{i}]") for i, t in enumerate(templates_data)]
    groups = [_read_group(reader, g, f"fileGroups[{i}]") for i, g in enumerate(groups_data)]
    for label, rows in (("workflowTemplates", templates), ("fileGroups", groups)):
        names = [row["name"] for row in rows if row]
        for name in {n for n in names if names.count(n) > 1}:
            reader.fail(label, f"{name!r} is listed twice.")
    if reader.errors:
        raise InvalidInput("The workflow template document is invalid.", errors=reader.errors)
    return [t for t in templates if t], [g for g in groups if g]


def _organization(ref: dict | None):
    if ref is None:
        return None
    from apps.accounts.models import Organization

    organizations = Organization.objects.filter(slug=ref["slug"])
    if ref.get("domain"):
        organizations = organizations.filter(domain__code=ref["domain"])
    found = list(organizations[:2])
    if len(found) != 1:
        where = f" of {ref['domain']}" if ref.get("domain") else ""
        raise InvalidInput(f"There is no single organization {ref['slug']!r}{where} for a template.")
    return found[0]


def _template_state(row: dict, organization) -> dict:
    return {
        "description": row["description"],
        "deployed_a2stage": "a2stage" in row["deployments"],
        "deployed_a2prod": "a2prod" in row["deployments"],
        "model_id": row["model_id"],
        "organization_id": organization.pk if organization else None,
        "workflow": row["workflow"],
    }


PARAMETER_FIELDS = (
    "position",
    "name",
    "type",
    "data_type",
    "ui_type",
    "description",
    "default_value",
    "user_value",
    "replace_from_string",
    "extra_data",
    "is_optional",
    "min",
    "max",
    "increment",
    "option_name",
    "is_always_visible",
    "is_hidden",
    "file_group",
    "file_group_destination",
    "dropdown_items",
)


def _current_children(template: WorkflowTemplate) -> tuple[list[dict], list[dict]]:
    parameters = [
        {key: getattr(p, key) for key in PARAMETER_FIELDS} for p in template.parameters.order_by("position", "name")
    ]
    files = [
        {"name": f.name, "file_names": f.file_names, "support_file_type": f.support_file_type}
        for f in template.files.order_by("name")
    ]
    return parameters, sorted(files, key=lambda f: f["name"])


def _save_template(row: dict, report: ImportReport) -> WorkflowTemplate:
    organization = _organization(row["organization"])
    state = _template_state(row, organization)
    template = WorkflowTemplate.objects.select_for_update().filter(name=row["name"]).first()
    files = sorted(row["files"], key=lambda f: f["name"])
    if template is None:
        template = WorkflowTemplate.objects.create(name=row["name"], **state)
        report.created.append(template.name)
    else:
        same_fields = all(getattr(template, key) == value for key, value in state.items())
        if same_fields and _current_children(template) == (row["parameters"], files):
            report.unchanged.append(template.name)
            return template
        for key, value in state.items():
            setattr(template, key, value)
        template.save()
        template.parameters.all().delete()
        template.files.all().delete()
        report.updated.append(template.name)
    WorkflowTemplateParameter.objects.bulk_create(
        [WorkflowTemplateParameter(template=template, **parameter) for parameter in row["parameters"]]
    )
    WorkflowTemplateFile.objects.bulk_create([WorkflowTemplateFile(template=template, **file) for file in files])
    return template


def _save_group(row: dict, report: ImportReport) -> None:
    group = WorkflowFileGroup.objects.select_for_update().filter(name=row["name"]).first()
    if group is None:
        group = WorkflowFileGroup.objects.create(name=row["name"], description=row["description"])
        report.groups_created.append(group.name)
    else:
        current = list(group.files.order_by("position", "file_name").values_list("file_name", flat=True))
        if group.description == row["description"] and current == row["file_names"]:
            return
        group.description = row["description"]
        group.save(update_fields=["description", "updated_at"])
        group.files.all().delete()
        report.groups_updated.append(group.name)
    WorkflowFileGroupFile.objects.bulk_create(
        [WorkflowFileGroupFile(group=group, file_name=name, position=i) for i, name in enumerate(row["file_names"])]
    )


IMPORT_ATTEMPTS = 3


def import_templates(*, document) -> ImportReport:
    """Create or update templates and file groups from a JSON document (``export_data``'s format).

    Templates and groups are matched by name; one whose content is already the same is left
    untouched, so importing a file twice changes nothing. Each imported template is validated and
    gets ``valid`` or ``invalid``. All or nothing: a malformed document changes nothing. Imports
    running at the same time serialize on the rows they change; one that loses a race to create a
    name starts over and then finds that row.
    """
    templates, groups = read_document(document)
    attempt = 1
    while True:
        try:
            with transaction.atomic():
                return _import(templates, groups)
        except IntegrityError:
            if attempt >= IMPORT_ATTEMPTS:
                raise Conflict("Another import changed the same templates at the same time. Try again.") from None
            attempt += 1


def _import(templates: list[dict], groups: list[dict]) -> ImportReport:
    report = ImportReport()
    for row in groups:
        _save_group(row, report)
    saved = [_save_template(row, report) for row in templates]
    for template in saved:
        validate_template(template=template)
        if template.validation_errors:
            report.invalid[template.name] = list(template.validation_errors)
    return report


def seed_demo_templates():
    """Demo data: the templates and file groups of the bundled fixture (idempotent)."""
    report = import_templates(document=json.loads(DEMO_FIXTURE.read_text()))
    for line in report.lines():
        yield f"workflow templates {line}"
