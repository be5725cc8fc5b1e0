"""Helpers of the API2 workflow tests: a fake ComfyUI server, templates, API2 users and envelopes."""

from __future__ import annotations

import io
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from apps.accounts import services as accounts
from apps.billing.models import Subscription
from apps.core.domains import default_domain
from apps.text2image.models import (
    WorkflowFileGroup,
    WorkflowFileGroupFile,
    WorkflowTemplate,
    WorkflowTemplateFile,
    WorkflowTemplateParameter,
)
from tests.factories import UserFactory

API2_TIER_MESSAGE = "API2 endpoints are only available to users whose PRO tier is higher than 0."
NOT_SIGNED_IN = "You are not signed in."


# --- envelopes and callers -----------------------------------------------------------------------------


def ok(payload) -> dict:
    return {"hasError": False, "errorMessage": None, "payload": payload}


def error_of(response) -> str:
    body = response.json()
    assert body["hasError"] is True and body["payload"] is None, body
    return body["errorMessage"]


def subscribe(user, tier: int) -> Subscription:
    return Subscription.objects.create(
        user=user, domain=user.domain, merchant_processor="stripe", tier=tier, product_id=f"stripe-tier{tier}"
    )


def session_headers(user=None) -> dict:
    session = accounts.create_session(domain=default_domain(), user=user)
    return {"HTTP_X_SESSION_ID": str(session.pk)}


def api2_user(tier: int = 1):
    user = UserFactory()
    if tier:
        subscribe(user, tier)
    return user


# --- templates -----------------------------------------------------------------------------------------


WORKFLOW = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "%model%"}},
    "5": {
        "class_type": "EmptyLatentImage",
        "inputs": {"width": "%width%", "height": "%height%", "batch_size": "%batch%"},
    },
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "%prompt%", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "%negprompt%", "clip": ["4", 1]}},
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "model": ["4", 0],
            "positive": ["6", 0],
            "negative": ["7", 0],
            "latent_image": ["5", 0],
            "seed": "%seed%",
            "steps": "%steps%",
            "cfg": "%cfg%",
            "sampler_name": "euler",
            "scheduler": "normal",
            "denoise": 1.0,
        },
    },
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "run-%seed%", "images": ["8", 0]}},
}


def parameter(name, marker, data_type="string", **fields) -> dict:
    return {"name": name, "data_type": data_type, "replace_from_string": marker, **fields}


STANDARD_PARAMETERS = [
    parameter("Positive Prompt", "%prompt%", option_name="prompt", is_always_visible=True),
    parameter("Negative Prompt", "%negprompt%", is_optional=True, default_value="ugly"),
    parameter("Seed", "%seed%", "number", is_optional=True, default_value="42", min="-1", max="4294967295"),
    parameter("Steps", "%steps%", "number", default_value="20", min="1", max="50", increment="1"),
    parameter("CFG Scale", "%cfg%", "number", default_value="7", min="1", max="12", increment="0.5"),
    parameter("Width", "%width%", "number", default_value="512", min="256", max="1024", increment="64"),
    parameter("Height", "%height%", "number", default_value="512", min="256", max="1024", increment="64"),
    parameter("Batch Size", "%batch%", "number", default_value="1", min="1", max="4", increment="1"),
    parameter(
        "Model",
        "%model%",
        "dropdown",
        default_value="sd_xl_base_1.0.safetensors",
        dropdown_items=["sd_xl_base_1.0.safetensors", "juggernautXL_v9.safetensors"],
    ),
]


def make_template(
    name="portrait",
    *,
    model_id="f222",
    parameters=None,
    workflow=None,
    deployments=("a2prod",),
    validation_status=WorkflowTemplate.ValidationStatus.VALID,
    files=None,
    **fields,
) -> WorkflowTemplate:
    template = WorkflowTemplate.objects.create(
        name=name,
        model_id=model_id,
        workflow=WORKFLOW if workflow is None else workflow,
        deployed_a2stage="a2stage" in deployments,
        deployed_a2prod="a2prod" in deployments,
        validation_status=validation_status,
        **fields,
    )
    for position, data in enumerate(STANDARD_PARAMETERS if parameters is None else parameters):
        WorkflowTemplateParameter.objects.create(template=template, position=position, **data)
    for file_name, data in (files or {}).items():
        WorkflowTemplateFile.objects.create(template=template, name=file_name, **data)
    return template


def make_group(name, file_names) -> WorkflowFileGroup:
    group = WorkflowFileGroup.objects.create(name=name)
    for position, file_name in enumerate(file_names):
        WorkflowFileGroupFile.objects.create(group=group, file_name=file_name, position=position)
    return group


# --- a fake ComfyUI server -------------------------------------------------------------------------------


def png(width=64, height=48, color=(200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


VALIDATION_ERROR = {
    "error": {
        "type": "prompt_outputs_failed_validation",
        "message": "Prompt outputs failed validation",
        "details": "",
        "extra_info": {},
    },
    "node_errors": {
        "4": {
            "errors": [
                {
                    "type": "value_not_in_list",
                    "message": "Value not in list",
                    "details": "ckpt_name: 'missing.safetensors' not in ['sd_xl_base_1.0.safetensors']",
                    "extra_info": {},
                }
            ],
            "dependent_outputs": ["9"],
            "class_type": "CheckpointLoaderSimple",
        }
    },
}

EXECUTION_ERROR = {
    "node_id": "3",
    "node_type": "KSampler",
    "executed": ["4", "5", "6", "7"],
    "exception_message": "CUDA out of memory. Tried to allocate 2.00 GiB",
    "exception_type": "torch.OutOfMemoryError",
    "traceback": ["Traceback (most recent call last):", "..."],
    "current_inputs": {},
    "current_outputs": {},
}


class FakeComfyUI:
    """The ComfyUI HTTP API (``/prompt``, ``/history/{id}``, ``/queue``, ``/view``, ``/interrupt``,
    ``/system_stats``) served by ``http.server`` on 127.0.0.1 in a thread.

    Each queued prompt waits through ``pending_polls`` history polls in ``queue_pending``, then runs for
    ``running_polls`` polls in ``queue_running``, then ends as ``outcome``: ``success`` (one PNG per
    latent of the batch, sized as the workflow's EmptyLatentImage, from SaveImage node 9, plus a
    temp preview of node 12), ``error`` (an ``execution_error`` of node 3) or ``never`` (runs forever).
    """

    def __init__(self, *, pending_polls=1, running_polls=1, outcome="success", prompt_status=200, view_status=200):
        self.pending_polls = pending_polls
        self.running_polls = running_polls
        self.outcome = outcome
        self.prompt_status = prompt_status
        self.view_status = view_status
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.prompts: dict[str, dict] = {}  # prompt id -> the body of POST /prompt
        self.order: list[str] = []
        self.polls: dict[str, int] = {}
        self.history: dict[str, dict] = {}
        self.files: dict[tuple[str, str, str], bytes] = {}
        self.interrupts: list[dict] = []
        self.deletes: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeComfyUI:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def count(self, method: str, path_prefix: str) -> int:
        return sum(1 for m, p in self.requests if m == method and p.startswith(path_prefix))

    # --- state ------------------------------------------------------------------------------------
    def _state(self, prompt_id: str) -> str:
        if prompt_id in self.history:
            return "done"
        if prompt_id not in self.prompts:
            return "unknown"
        polls = self.polls.get(prompt_id, 0)
        if polls <= self.pending_polls:
            return "pending"
        if self.outcome == "never" or polls <= self.pending_polls + self.running_polls:
            return "running"
        self._finish(prompt_id)
        return "done"

    def _finish(self, prompt_id: str, *, interrupted: bool = False) -> None:
        if interrupted:
            status = {
                "status_str": "error",
                "completed": False,
                "messages": [
                    ["execution_start", {"prompt_id": prompt_id, "timestamp": 1}],
                    ["execution_interrupted", {"prompt_id": prompt_id, "node_id": "3", "node_type": "KSampler"}],
                ],
            }
            self.history[prompt_id] = {"prompt": [], "outputs": {}, "status": status, "meta": {}}
            return
        if self.outcome == "error":
            status = {
                "status_str": "error",
                "completed": False,
                "messages": [
                    ["execution_start", {"prompt_id": prompt_id, "timestamp": 1}],
                    ["execution_error", {"prompt_id": prompt_id, **EXECUTION_ERROR}],
                ],
            }
            self.history[prompt_id] = {"prompt": [], "outputs": {}, "status": status, "meta": {}}
            return
        graph = self.prompts[prompt_id]["prompt"]
        latent = next((n["inputs"] for n in graph.values() if n.get("class_type") == "EmptyLatentImage"), {})
        width, height, batch = latent.get("width", 64), latent.get("height", 48), latent.get("batch_size", 1)
        width, height = (width, height) if isinstance(width, int) and isinstance(height, int) else (64, 48)
        batch = batch if isinstance(batch, int) else 1
        images = []
        for index in range(batch):
            name = f"run_{len(self.history):05d}_{index}.png"
            self.files[(name, "atelier", "output")] = png(width, height, (30 * index % 255, 90, 160))
            images.append({"filename": name, "subfolder": "atelier", "type": "output"})
        preview = f"preview_{len(self.history):05d}.png"
        self.files[(preview, "", "temp")] = png(8, 8)
        self.history[prompt_id] = {
            "prompt": [0, prompt_id, graph, {}, ["9"]],
            "outputs": {
                "9": {"images": images},
                "12": {"images": [{"filename": preview, "subfolder": "", "type": "temp"}]},
            },
            "status": {
                "status_str": "success",
                "completed": True,
                "messages": [
                    ["execution_start", {"prompt_id": prompt_id}],
                    ["execution_success", {"prompt_id": prompt_id}],
                ],
            },
            "meta": {},
        }

    def _queue(self) -> dict:
        pending, running = [], []
        for number, prompt_id in enumerate(self.order):
            state = self._peek(prompt_id)
            entry = [number, prompt_id, self.prompts[prompt_id]["prompt"], {}, ["9"]]
            if state == "pending":
                pending.append(entry)
            elif state == "running":
                running.append(entry)
        return {"queue_running": running, "queue_pending": pending}

    def _peek(self, prompt_id: str) -> str:
        if prompt_id in self.history or prompt_id in self.deletes:
            return "gone"
        polls = self.polls.get(prompt_id, 0)
        if polls <= self.pending_polls:
            return "pending"
        return "running"

    # --- HTTP ---------------------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, payload, content_type="application/json"):
                body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def do_GET(self):
                url = urlsplit(self.path)
                with fake.lock:
                    fake.requests.append(("GET", url.path))
                    if url.path == "/system_stats":
                        return self._send(200, {"system": {"os": "posix"}, "devices": []})
                    if url.path == "/queue":
                        return self._send(200, fake._queue())
                    if url.path.startswith("/history/"):
                        prompt_id = url.path.removeprefix("/history/")
                        if prompt_id in fake.prompts and prompt_id not in fake.history:
                            fake.polls[prompt_id] = fake.polls.get(prompt_id, 0) + 1
                        state = fake._state(prompt_id)
                        return self._send(200, {prompt_id: fake.history[prompt_id]} if state == "done" else {})
                    if url.path == "/view":
                        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
                        key = (query.get("filename", ""), query.get("subfolder", ""), query.get("type", "output"))
                        if fake.view_status != 200:
                            return self._send(fake.view_status, b"boom", "text/plain")
                        if key not in fake.files:
                            return self._send(404, b"not found", "text/plain")
                        return self._send(200, fake.files[key], "image/png")
                return self._send(404, b"404: Not Found", "text/plain")

            def do_POST(self):
                url = urlsplit(self.path)
                body = self._body()
                with fake.lock:
                    fake.requests.append(("POST", url.path))
                    if url.path == "/prompt":
                        if fake.prompt_status == 400:
                            return self._send(400, VALIDATION_ERROR)
                        if fake.prompt_status != 200:
                            return self._send(fake.prompt_status, b"500: Internal Server Error", "text/plain")
                        prompt_id = body.get("prompt_id") or str(uuid.uuid4())
                        fake.prompts[prompt_id] = body
                        fake.order.append(prompt_id)
                        return self._send(200, {"prompt_id": prompt_id, "number": len(fake.order), "node_errors": {}})
                    if url.path == "/interrupt":
                        fake.interrupts.append(body)
                        prompt_id = body.get("prompt_id")
                        if prompt_id in fake.prompts and prompt_id not in fake.history:
                            fake._finish(prompt_id, interrupted=True)
                        return self._send(200, b"", "text/plain")
                    if url.path == "/queue":
                        for prompt_id in body.get("delete", []):
                            fake.deletes.append(prompt_id)
                        return self._send(200, b"", "text/plain")
                return self._send(404, b"404: Not Found", "text/plain")

        return Handler
