"""The ``comfyui`` provider: runs a workflow on a ComfyUI server through its HTTP API.

- ``POST /prompt`` with ``{"prompt": workflow, "client_id": ..., "prompt_id": ...}`` queues the
  workflow (a 400 carries ``error`` and ``node_errors``: the run fails with the node's message);
- ``GET /history/{prompt_id}`` is polled until the run appears there (``status.status_str``
  ``success`` or ``error``), ``GET /queue`` tells the queue position while it waits;
- ``GET /view?filename=&subfolder=&type=`` downloads each output file;
- ``POST /interrupt`` (the running prompt) or ``POST /queue {"delete": [...]}`` (a waiting one)
  cancels a run, on request and when the job's time limit passes.

The prompt id is the job id, so a run that a crashed worker left behind is found again (in the queue
or in the history) instead of being queued a second time.

Workflow jobs bring the template's workflow (``request.workflow``) and the run values by marker
(``request.workflow_values``); ``substitute`` puts them in. Plain generations on a ComfyUI model
use ``provider_config["workflow"]`` (a workflow with the ``STANDARD_MARKERS``) or, without one, a
built-in text-to-image graph for ``provider_config["checkpoint"]``.

Configuration (the model's ``provider_config``): ``base_url`` (required), ``headers``,
``poll_interval`` (s, default 1), ``request_timeout`` (s per HTTP call, default 30),
``max_poll_errors`` (consecutive failed polls tolerated, default 5), ``max_output_bytes`` (per file,
default 100 MB), ``output_nodes`` (node ids whose files are the outputs; default every node),
``checkpoint``, ``workflow``; the runtime estimate uses the model's ``runtime_base_seconds`` and
``runtime_per_step_megapixel``. The job's time limit is the model's.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import mimetypes
import re
import time
import uuid
from urllib import error as urlerror
from urllib import parse
from urllib import request as urlrequest

from .base import GeneratedOutput, GenerationRequest, GenerationResult, Provider, ProviderError, ProviderTimeout

DEFAULT_POLL_INTERVAL = 1.0
DEFAULT_REQUEST_TIMEOUT = 30.0
DEFAULT_MAX_POLL_ERRORS = 5
DEFAULT_MAX_OUTPUT_BYTES = 100 * 1024 * 1024
MAX_JSON_BYTES = 16 * 1024 * 1024

# Markers of ``provider_config["workflow"]`` for plain (non-template) generations.
STANDARD_MARKERS = {
    "prompt": "%prompt%",
    "negative_prompt": "%negative_prompt%",
    "seed": "%seed%",
    "steps": "%steps%",
    "cfg": "%cfg%",
    "sampler": "%sampler%",
    "scheduler": "%scheduler%",
    "width": "%width%",
    "height": "%height%",
    "batch_size": "%batch_size%",
    "checkpoint": "%checkpoint%",
    "frame_count": "%frame_count%",
}

# A1111 sampler names (the AIMG ones) as ComfyUI (sampler_name, scheduler).
SAMPLERS = {
    "euler": ("euler", "normal"),
    "euler a": ("euler_ancestral", "normal"),
    "heun": ("heun", "normal"),
    "lms": ("lms", "normal"),
    "lms karras": ("lms", "karras"),
    "dpm2": ("dpm_2", "normal"),
    "dpm2 karras": ("dpm_2", "karras"),
    "dpm2 a": ("dpm_2_ancestral", "normal"),
    "dpm2 a karras": ("dpm_2_ancestral", "karras"),
    "dpm++ 2s a": ("dpmpp_2s_ancestral", "normal"),
    "dpm++ 2s a karras": ("dpmpp_2s_ancestral", "karras"),
    "dpm++ 2m": ("dpmpp_2m", "normal"),
    "dpm++ 2m karras": ("dpmpp_2m", "karras"),
    "dpm++ sde": ("dpmpp_sde", "normal"),
    "dpm++ sde karras": ("dpmpp_sde", "karras"),
    "dpm++ 2m sde": ("dpmpp_2m_sde", "normal"),
    "dpm++ 2m sde karras": ("dpmpp_2m_sde", "karras"),
    "ddim": ("ddim", "ddim_uniform"),
    "unipc": ("uni_pc", "normal"),
}


# --- substitution --------------------------------------------------------------------------------


def _as_text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)


def substitute(workflow, values: dict):
    """A copy of ``workflow`` with every marker (key of ``values``) replaced by its value.

    A JSON string that is exactly a marker becomes the value itself, typed (a number stays a number,
    a list a list); a marker inside a longer string is replaced by the value's text. Longer markers
    win over markers they contain (``%lora10%`` before ``%lora1%``). Keys are left alone.
    """
    markers = {marker: value for marker, value in values.items() if marker}
    if not markers:
        return copy.deepcopy(workflow)
    pattern = re.compile("|".join(re.escape(m) for m in sorted(markers, key=len, reverse=True)))

    def visit(node):
        if isinstance(node, dict):
            return {key: visit(value) for key, value in node.items()}
        if isinstance(node, list):
            return [visit(value) for value in node]
        if isinstance(node, str):
            if node in markers:
                return copy.deepcopy(markers[node])
            return pattern.sub(lambda match: _as_text(markers[match.group(0)]), node)
        return node

    return visit(workflow)


def markers_in(workflow) -> set[str]:
    """Every JSON string of ``workflow`` (for checking that a marker occurs in it)."""
    found: set[str] = set()

    def visit(node):
        if isinstance(node, dict):
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)
        elif isinstance(node, str):
            found.add(node)

    visit(workflow)
    return found


def marker_occurs(workflow, marker: str) -> bool:
    return any(marker in text for text in markers_in(workflow))


# --- the built-in graph for plain generations ------------------------------------------------------


def sampler_for(name: str) -> tuple[str, str]:
    return SAMPLERS.get((name or "").strip().lower(), ("euler", "normal"))


def default_graph(request: GenerationRequest, checkpoint: str) -> dict:
    """A text-to-image graph: checkpoint → LoRAs → prompts → KSampler → VAE decode → SaveImage."""
    sampler, scheduler = sampler_for(request.sampler)
    graph = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": checkpoint}},
    }
    model, clip = ["4", 0], ["4", 1]
    for index, (name, strength) in enumerate(request.loras):
        node = str(100 + index)
        graph[node] = {
            "class_type": "LoraLoader",
            "inputs": {
                "model": model,
                "clip": clip,
                "lora_name": name,
                "strength_model": strength,
                "strength_clip": strength,
            },
        }
        model, clip = [node, 0], [node, 1]
    graph.update(
        {
            "5": {
                "class_type": "EmptyLatentImage",
                "inputs": {"width": request.width, "height": request.height, "batch_size": request.batch_size},
            },
            "6": {"class_type": "CLIPTextEncode", "inputs": {"text": request.prompt, "clip": clip}},
            "7": {"class_type": "CLIPTextEncode", "inputs": {"text": request.negative_prompt, "clip": clip}},
            "3": {
                "class_type": "KSampler",
                "inputs": {
                    "model": model,
                    "positive": ["6", 0],
                    "negative": ["7", 0],
                    "latent_image": ["5", 0],
                    "seed": request.seed,
                    "steps": request.steps,
                    "cfg": request.cfg_scale,
                    "sampler_name": sampler,
                    "scheduler": scheduler,
                    "denoise": 1.0,
                },
            },
            "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
            "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "atelier", "images": ["8", 0]}},
        }
    )
    return graph


# --- HTTP --------------------------------------------------------------------------------------------


class _HttpError(Exception):
    def __init__(self, status: int, body: bytes):
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8", "replace"))
        except ValueError:
            return None


class _Unreachable(Exception):
    pass


class _TooLarge(Exception):
    pass


_OPENER = urlrequest.build_opener(urlrequest.ProxyHandler({}))


class ComfyUIProvider(Provider):
    name = "comfyui"

    # --- configuration ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        url = str(self.config.get("base_url") or "").strip().rstrip("/")
        if not url:
            raise ProviderError("The ComfyUI provider has no base_url configured.")
        if parse.urlsplit(url).scheme not in ("http", "https"):
            raise ProviderError("The ComfyUI base_url must be an http or https URL.")
        return url

    def _setting(self, key: str, default: float) -> float:
        try:
            value = float(self.config.get(key, default))
        except (TypeError, ValueError):
            return default
        return value if value > 0 else default

    # --- HTTP ------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, *, query=None, body=None, timeout: float, limit: int = MAX_JSON_BYTES):
        url = self.base_url + path
        if query:
            url += "?" + parse.urlencode(query)
        headers = {
            "Accept": "application/json",
            **{str(k): str(v) for k, v in (self.config.get("headers") or {}).items()},
        }
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        # The scheme is checked in ``base_url``: http or https only.
        req = urlrequest.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with _OPENER.open(req, timeout=max(timeout, 0.05)) as response:
                payload = response.read(limit + 1)
                if len(payload) > limit:
                    raise _TooLarge(f"ComfyUI sent more than {limit} bytes for {method} {path}.")
                return payload, response.headers.get("Content-Type", "")
        except urlerror.HTTPError as exc:
            raise _HttpError(exc.code, exc.read(64 * 1024)) from exc
        except (urlerror.URLError, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _Unreachable(f"ComfyUI at {self.base_url} is not reachable ({reason}).") from exc

    def _json(self, method: str, path: str, **kwargs):
        payload, _ = self._call(method, path, **kwargs)
        if not payload:
            return {}
        try:
            return json.loads(payload)
        except ValueError as exc:
            raise ProviderError(f"ComfyUI answered {method} {path} with something that is not JSON.") from exc

    # --- interface -------------------------------------------------------------------------------
    def expected_runtime(self, request: GenerationRequest) -> float:
        """The model's estimate: ``runtime_base_seconds`` + ``runtime_per_step_megapixel`` per step and
        megapixel of the batch."""
        base = self._setting("runtime_base_seconds", 2.0)
        per_step = self._setting("runtime_per_step_megapixel", 0.15)
        megapixels = max(request.width, 1) * max(request.height, 1) / 1_000_000
        return base + per_step * max(request.steps, 1) * megapixels * max(request.batch_size, 1)

    def is_available(self) -> bool:
        try:
            self._call("GET", "/system_stats", timeout=min(self._setting("request_timeout", 3.0), 3.0))
        except (ProviderError, _HttpError, _Unreachable):
            return False
        return True

    def cancel(self, provider_ref: str) -> None:
        """Stop the run ``provider_ref``: interrupt it when it runs, take it off the queue when it waits."""
        if not provider_ref:
            return
        timeout = self._setting("request_timeout", DEFAULT_REQUEST_TIMEOUT)
        try:
            queue = self._json("GET", "/queue", timeout=timeout)
            if provider_ref in _queue_ids(queue, "queue_running"):
                self._call("POST", "/interrupt", body={"prompt_id": provider_ref}, timeout=timeout)
            else:
                self._call("POST", "/queue", body={"delete": [provider_ref]}, timeout=timeout)
        except (_HttpError, _Unreachable) as exc:
            raise ProviderError(f"Could not cancel the ComfyUI run {provider_ref}: {exc}", transient=True) from exc

    def generate(self, request: GenerationRequest, *, progress=None) -> GenerationResult:
        report = progress or (lambda fraction, line: None)
        log: list[str] = []

        def note(fraction: float, line: str) -> None:
            log.append(line)
            report(fraction, line)

        workflow = self._workflow_for(request)
        deadline = time.monotonic() + request.timeout
        timeout = self._setting("request_timeout", DEFAULT_REQUEST_TIMEOUT)
        prompt_id = _prompt_id_for(request.job_id)

        try:
            entry = self._find_previous_run(prompt_id, timeout=min(timeout, max(deadline - time.monotonic(), 0.05)))
            if entry is None:
                prompt_id, number = self._queue_prompt(workflow, prompt_id, timeout=timeout, deadline=deadline)
                note(0.0, f"Queued on ComfyUI as prompt {prompt_id} (number {number}).")
            else:
                note(0.0, f"Found the ComfyUI prompt {prompt_id} of an earlier attempt; not queueing it again.")
            history = self._wait(request, prompt_id, deadline=deadline, note=note)
            self._raise_run_error(history)
            outputs, files = self._download(request, history, deadline=deadline)
        except _Unreachable as exc:
            raise ProviderError(str(exc), transient=True) from exc
        except _TooLarge as exc:
            raise ProviderError(str(exc)) from exc
        except _HttpError as exc:
            raise ProviderError(f"ComfyUI answered HTTP {exc.status}.", transient=exc.status >= 500) from exc
        note(1.0, f"ComfyUI finished: {len(outputs)} output file(s).")
        info = {"prompt_id": prompt_id, "outputs": files}
        status = history.get("status") or {}
        if isinstance(status, dict) and status.get("status_str"):
            info["status"] = status["status_str"]
        return GenerationResult(outputs=outputs, info=info, log=log, provider_ref=prompt_id)

    # --- steps -----------------------------------------------------------------------------------
    def _workflow_for(self, request: GenerationRequest) -> dict:
        if request.workflow is not None:
            workflow = substitute(request.workflow, dict(request.workflow_values or {}))
        elif isinstance(self.config.get("workflow"), dict):
            sampler, scheduler = sampler_for(request.sampler)
            values = {
                "prompt": request.prompt,
                "negative_prompt": request.negative_prompt,
                "seed": request.seed,
                "steps": request.steps,
                "cfg": request.cfg_scale,
                "sampler": sampler,
                "scheduler": scheduler,
                "width": request.width,
                "height": request.height,
                "batch_size": request.batch_size,
                "checkpoint": str(self.config.get("checkpoint") or ""),
                "frame_count": request.frame_count,
            }
            workflow = substitute(self.config["workflow"], {STANDARD_MARKERS[k]: v for k, v in values.items()})
        else:
            if request.media != "image":
                raise ProviderError("This ComfyUI model has no video workflow configured (provider_config.workflow).")
            checkpoint = str(self.config.get("checkpoint") or "").strip()
            if not checkpoint:
                raise ProviderError("This ComfyUI model has neither a workflow nor a checkpoint configured.")
            workflow = default_graph(request, checkpoint)
        if not isinstance(workflow, dict) or not workflow:
            raise ProviderError("The workflow to run on ComfyUI is empty.")
        return workflow

    def _find_previous_run(self, prompt_id: str, *, timeout: float) -> dict | None:
        """The history entry (or ``{}`` while queued) of a run with this prompt id queued earlier."""
        history = self._json("GET", f"/history/{parse.quote(prompt_id, safe='')}", timeout=timeout)
        if isinstance(history, dict) and isinstance(history.get(prompt_id), dict):
            return history[prompt_id]
        queue = self._json("GET", "/queue", timeout=timeout)
        if prompt_id in _queue_ids(queue, "queue_running") | _queue_ids(queue, "queue_pending"):
            return {}
        return None

    def _queue_prompt(self, workflow: dict, prompt_id: str, *, timeout: float, deadline: float) -> tuple[str, object]:
        body = {"prompt": workflow, "client_id": uuid.uuid4().hex, "prompt_id": prompt_id}
        try:
            answer = self._json(
                "POST", "/prompt", body=body, timeout=min(timeout, max(deadline - time.monotonic(), 0.05))
            )
        except _HttpError as exc:
            data = exc.json()
            if exc.status < 500 and isinstance(data, dict) and ("error" in data or "node_errors" in data):
                raise ProviderError(_validation_message(data)) from exc
            raise
        if not isinstance(answer, dict):
            raise ProviderError("ComfyUI answered POST /prompt without a prompt id.")
        if answer.get("node_errors") and not answer.get("prompt_id"):
            raise ProviderError(_validation_message(answer))
        queued_id = answer.get("prompt_id")
        if not isinstance(queued_id, str) or not queued_id:
            raise ProviderError("ComfyUI answered POST /prompt without a prompt id.")
        return queued_id, answer.get("number")

    def _wait(self, request: GenerationRequest, prompt_id: str, *, deadline: float, note) -> dict:
        interval = self._setting("poll_interval", DEFAULT_POLL_INTERVAL)
        timeout = self._setting("request_timeout", DEFAULT_REQUEST_TIMEOUT)
        max_errors = int(self._setting("max_poll_errors", DEFAULT_MAX_POLL_ERRORS))
        errors = 0
        last_state = None
        quoted = parse.quote(prompt_id, safe="")
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._give_up(prompt_id)
                raise ProviderTimeout(f"ComfyUI did not finish the workflow within {request.timeout:g} seconds.")
            try:
                history = self._json("GET", f"/history/{quoted}", timeout=min(timeout, remaining))
                entry = history.get(prompt_id) if isinstance(history, dict) else None
                if isinstance(entry, dict) and _finished(entry):
                    return entry
                queue = self._json("GET", "/queue", timeout=min(timeout, max(deadline - time.monotonic(), 0.05)))
                errors = 0
            except (_Unreachable, _HttpError) as exc:
                errors += 1
                if errors > max_errors:
                    raise ProviderError(
                        f"Lost contact with ComfyUI while waiting for prompt {prompt_id}: {exc}", transient=True
                    ) from exc
                time.sleep(min(interval, max(deadline - time.monotonic(), 0)))
                continue
            pending = _queue_ids_ordered(queue, "queue_pending")
            if prompt_id in _queue_ids(queue, "queue_running"):
                if last_state != "running":
                    note(0.05, "Running on ComfyUI.")
                    last_state = "running"
            elif prompt_id in pending:
                position = pending.index(prompt_id) + 1
                state = f"pending:{position}"
                if state != last_state:
                    note(0.0, f"Waiting in the ComfyUI queue (position {position}).")
                    last_state = state
            time.sleep(min(interval, max(deadline - time.monotonic(), 0)))

    def _give_up(self, prompt_id: str) -> None:
        with contextlib.suppress(ProviderError):
            self.cancel(prompt_id)

    def _raise_run_error(self, entry: dict) -> None:
        status = entry.get("status") if isinstance(entry.get("status"), dict) else {}
        if status.get("status_str") != "error":
            return
        for message in status.get("messages") or []:
            if not (isinstance(message, (list, tuple)) and len(message) == 2 and isinstance(message[1], dict)):
                continue
            kind, data = message
            if kind == "execution_error":
                raise ProviderError(_execution_error_message(data))
            if kind == "execution_interrupted":
                raise ProviderError("The run was interrupted on the ComfyUI server.")
        raise ProviderError("ComfyUI reported an error while running the workflow.")

    def _download(self, request: GenerationRequest, entry: dict, *, deadline: float):
        files = _output_files(entry, self.config.get("output_nodes"))
        if not files:
            raise ProviderError("The workflow finished on ComfyUI without any output file.")
        limit = int(self._setting("max_output_bytes", DEFAULT_MAX_OUTPUT_BYTES))
        timeout = self._setting("request_timeout", DEFAULT_REQUEST_TIMEOUT)
        outputs = []
        for file in files:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProviderTimeout(f"ComfyUI did not finish the workflow within {request.timeout:g} seconds.")
            query = {"filename": file["filename"], "subfolder": file["subfolder"], "type": file["type"]}
            try:
                data, content_type = self._call(
                    "GET", "/view", query=query, timeout=min(timeout, remaining), limit=limit
                )
            except _TooLarge as exc:
                raise ProviderError(f"The output {file['filename']} is larger than {limit} bytes.") from exc
            content_type = content_type.split(";")[0].strip().lower()
            if not content_type or content_type == "application/octet-stream":
                content_type = mimetypes.guess_type(file["filename"])[0] or "application/octet-stream"
            width, height = _dimensions(data, request)
            outputs.append(
                GeneratedOutput(
                    data=data,
                    content_type=content_type,
                    width=width,
                    height=height,
                    file_name=file["filename"],
                    is_main_output=file["main"],
                )
            )
        return outputs, [{k: v for k, v in file.items() if k != "main"} for file in files]


# --- helpers ---------------------------------------------------------------------------------------


def _prompt_id_for(job_id: str) -> str:
    try:
        return str(uuid.UUID(str(job_id)))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"atelier-job:{job_id}"))


def _queue_ids_ordered(queue, key: str) -> list[str]:
    ids = []
    if isinstance(queue, dict):
        for entry in queue.get(key) or []:
            if isinstance(entry, (list, tuple)) and len(entry) > 1 and isinstance(entry[1], str):
                ids.append((entry[0] if isinstance(entry[0], (int, float)) else 0, entry[1]))
    return [prompt for _, prompt in sorted(ids, key=lambda pair: pair[0])]


def _queue_ids(queue, key: str) -> set[str]:
    return set(_queue_ids_ordered(queue, key))


def _finished(entry: dict) -> bool:
    status = entry.get("status")
    if isinstance(status, dict):
        return bool(status.get("completed")) or status.get("status_str") in ("success", "error")
    return "outputs" in entry  # older servers keep no status


def _validation_message(data: dict) -> str:
    parts = []
    node_errors = data.get("node_errors")
    if isinstance(node_errors, dict):
        for node_id, node in node_errors.items():
            if isinstance(node, dict):
                details = []
                for err in node.get("errors") or []:
                    if isinstance(err, dict):
                        text = str(err.get("message") or "").strip()
                        extra = str(err.get("details") or "").strip()
                        details.append(f"{text}: {extra}" if text and extra else text or extra)
                label = f"Node {node_id}" + (f" ({node['class_type']})" if node.get("class_type") else "")
                parts.append(f"{label}: {'; '.join(d for d in details if d) or 'invalid'}")
            elif node:
                parts.append(f"Node {node_id}: {node}")
    if parts:
        return "ComfyUI refused the workflow. " + " ".join(parts)
    error = data.get("error")
    if isinstance(error, dict):
        text = str(error.get("message") or "").strip()
        extra = str(error.get("details") or "").strip()
        message = f"{text}: {extra}" if text and extra else text or extra
    else:
        message = str(error or "").strip()
    return f"ComfyUI refused the workflow: {message or 'invalid prompt'}."


def _execution_error_message(data: dict) -> str:
    node = data.get("node_id")
    node_type = data.get("node_type")
    label = f"Node {node}" + (f" ({node_type})" if node_type else "") if node is not None else "ComfyUI"
    kind = str(data.get("exception_type") or "").strip()
    text = str(data.get("exception_message") or "").strip() or "the node failed"
    return f"{label} failed: {kind + ': ' if kind else ''}{text}"


def _node_order(node_id: str):
    return (0, int(node_id), "") if str(node_id).isdigit() else (1, 0, str(node_id))


def _output_files(entry: dict, only_nodes) -> list[dict]:
    outputs = entry.get("outputs") if isinstance(entry.get("outputs"), dict) else {}
    wanted = {str(node) for node in only_nodes} if isinstance(only_nodes, list) and only_nodes else None
    saved, previews = [], []
    for node_id in sorted(outputs, key=_node_order):
        if wanted is not None and str(node_id) not in wanted:
            continue
        node = outputs[node_id]
        if not isinstance(node, dict):
            continue
        for values in node.values():
            if not isinstance(values, list):
                continue
            for value in values:
                if not (isinstance(value, dict) and isinstance(value.get("filename"), str) and value["filename"]):
                    continue
                file = {
                    "node": str(node_id),
                    "filename": value["filename"],
                    "subfolder": str(value.get("subfolder") or ""),
                    "type": str(value.get("type") or "output"),
                }
                (saved if file["type"] == "output" else previews).append(file)
    files = saved or previews
    for file in files:
        file["main"] = True
    return files


def _dimensions(data: bytes, request: GenerationRequest) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return request.width, request.height
