"""API2 workflows run on a ComfyUI server (a fake one on 127.0.0.1): enqueueWorkflow → the job runs
through the engine (eager Celery) → getWorkflowStatus, with the node error or the time limit ending
a run as failed."""

import io

import pytest
from PIL import Image

from apps.items.models import Item
from apps.text2image.models import GenerationJob

from .workflows_support import FakeComfyUI, api2_user, make_template, session_headers

pytestmark = pytest.mark.django_db

ENQUEUE = "/2/enqueueWorkflow"
STATUS = "/2/getWorkflowStatus"


@pytest.fixture
def comfy_model(models):
    model = models["sdxl-comfyui"]
    model.enabled = True
    model.save()
    return model


def serve(model, server, **config):
    model.provider_config = {**model.provider_config, "base_url": server.url, "poll_interval": 0.01, **config}
    model.save()
    return server


@pytest.fixture
def user():
    return api2_user(tier=1)


@pytest.fixture
def headers(user):
    return session_headers(user)


def run(api_client, headers, capture, body):
    with capture(execute=True):
        response = api_client.post(ENQUEUE, body, format="json", **headers)
    assert response.status_code == 200, response.json()
    payload = response.json()["payload"]
    state = api_client.get(STATUS, {"workflowId": payload["workflowId"]}, **headers).json()["payload"]
    return payload, state, GenerationJob.objects.get(pk=payload["workflowId"])


def test_a_workflow_runs_on_comfyui_and_its_outputs_become_the_items(
    api_client, headers, comfy_model, django_capture_on_commit_callbacks
):
    server = serve(comfy_model, FakeComfyUI().start())
    make_template("sdxl", model_id="sdxl-comfyui")
    try:
        payload, state, job = run(
            api_client,
            headers,
            django_capture_on_commit_callbacks,
            {
                "workflowTemplateName": "sdxl",
                "prompt": "a lighthouse at dusk",
                "seed": 99,
                "steps": 12,
                "cfgscale": 4.5,
                "width": 768,
                "height": 1024,
                "batchSize": 2,
            },
        )
    finally:
        server.stop()

    assert job.status == "completed", job.error_message
    (prompt_id,) = server.prompts
    assert prompt_id == str(job.pk) == job.provider_ref
    graph = server.prompts[prompt_id]["prompt"]
    assert graph["3"]["inputs"]["seed"] == 99
    assert graph["3"]["inputs"]["steps"] == 12
    assert graph["3"]["inputs"]["cfg"] == 4.5
    assert graph["5"]["inputs"] == {"width": 768, "height": 1024, "batch_size": 2}
    assert graph["6"]["inputs"]["text"] == "a lighthouse at dusk"
    assert graph["7"]["inputs"]["text"] == "ugly"
    assert graph["4"]["inputs"]["ckpt_name"] == "sd_xl_base_1.0.safetensors"
    assert graph["9"]["inputs"]["filename_prefix"] == "run-99"

    assert state["state"] == "completed" and state["isComplete"] is True and state["isError"] is False
    assert state["itemIds"] == payload["itemIds"] and len(payload["itemIds"]) == 2
    assert [(f["width"], f["height"], f["type"], f["isMainOutput"]) for f in state["outputFiles"]] == [
        (768, 1024, "image/png", True),
        (768, 1024, "image/png", True),
    ]
    assert "Running on ComfyUI." in state["log"]
    downloaded = api_client.get(state["outputFiles"][0]["downloadURL"])
    assert downloaded.status_code == 200
    assert Image.open(
        io.BytesIO(b"".join(downloaded.streaming_content) if downloaded.streaming else downloaded.content)
    ).size == (768, 1024)

    items = Item.objects.filter(pk__in=payload["itemIds"]).order_by("created_at")
    assert [(i.status, i.width, i.height, i.generator_version) for i in items] == [
        ("completed", 768, 1024, "2"),
        ("completed", 768, 1024, "2"),
    ]
    assert all(i.model == "sdxl-comfyui" and i.workflow_template_name == "sdxl" for i in items)


def test_a_node_error_ends_the_workflow_failed_with_the_node_message(
    api_client, headers, comfy_model, django_capture_on_commit_callbacks
):
    server = serve(comfy_model, FakeComfyUI(prompt_status=400).start())
    make_template("sdxl", model_id="sdxl-comfyui")
    try:
        payload, state, job = run(
            api_client, headers, django_capture_on_commit_callbacks, {"workflowTemplateName": "sdxl", "prompt": "a fox"}
        )
    finally:
        server.stop()
    message = (
        "ComfyUI refused the workflow. Node 4 (CheckpointLoaderSimple): Value not in list: "
        "ckpt_name: 'missing.safetensors' not in ['sd_xl_base_1.0.safetensors']"
    )
    assert job.status == "failed" and job.error_message == message
    assert state["state"] == "error" and state["isError"] is True and state["errorMessage"] == message
    assert state["outputFiles"] == []
    assert not Item.objects.filter(pk__in=payload["itemIds"]).exists()  # failed placeholders leave the library


def test_a_node_failing_while_running_ends_the_workflow_failed(
    api_client, headers, comfy_model, django_capture_on_commit_callbacks
):
    server = serve(comfy_model, FakeComfyUI(outcome="error").start())
    make_template("sdxl", model_id="sdxl-comfyui")
    try:
        _, state, job = run(
            api_client, headers, django_capture_on_commit_callbacks, {"workflowTemplateName": "sdxl", "prompt": "a fox"}
        )
    finally:
        server.stop()
    assert job.status == "failed"
    assert state["errorMessage"] == (
        "Node 3 (KSampler) failed: torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"
    )


def test_a_workflow_past_the_models_time_limit_fails_and_is_interrupted(
    api_client, headers, comfy_model, django_capture_on_commit_callbacks
):
    comfy_model.timeout_seconds = 1
    server = serve(comfy_model, FakeComfyUI(pending_polls=0, outcome="never").start())
    make_template("sdxl", model_id="sdxl-comfyui")
    try:
        _, state, job = run(
            api_client, headers, django_capture_on_commit_callbacks, {"workflowTemplateName": "sdxl", "prompt": "a fox"}
        )
    finally:
        server.stop()
    assert job.status == "failed"
    assert state["errorMessage"] == "ComfyUI did not finish the workflow within 1 seconds."
    assert server.interrupts == [{"prompt_id": str(job.pk)}]


def test_a_server_error_is_retried_then_fails(api_client, headers, comfy_model, django_capture_on_commit_callbacks):
    server = serve(comfy_model, FakeComfyUI(prompt_status=500).start())
    make_template("sdxl", model_id="sdxl-comfyui")
    try:
        _, state, job = run(
            api_client, headers, django_capture_on_commit_callbacks, {"workflowTemplateName": "sdxl", "prompt": "a fox"}
        )
    finally:
        server.stop()
    assert job.status == "failed"
    assert job.attempts == 3
    assert server.count("POST", "/prompt") == 3
    assert state["errorMessage"] == "ComfyUI answered HTTP 500."


def test_a_templates_own_tier_rules_are_its_models(api_client, comfy_model, django_capture_on_commit_callbacks):
    """The ComfyUI model allows two items at a time at tier 1: a third is refused while they run."""
    make_template("sdxl", model_id="sdxl-comfyui")
    headers = session_headers(api2_user(tier=1))
    body = {"workflowTemplateName": "sdxl", "prompt": "a fox", "batchSize": 2}
    assert api_client.post(ENQUEUE, body, format="json", **headers).status_code == 200
    response = api_client.post(ENQUEUE, {**body, "batchSize": 1}, format="json", **headers)
    assert response.status_code == 429
