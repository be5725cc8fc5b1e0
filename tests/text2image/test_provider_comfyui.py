"""The ``comfyui`` provider against a fake ComfyUI server on 127.0.0.1 (a real socket server)."""

import io
import socket
import uuid

import pytest
from PIL import Image

from apps.text2image.providers.base import GenerationRequest, ProviderError, ProviderTimeout
from apps.text2image.providers.comfyui import ComfyUIProvider, default_graph, substitute
from apps.text2image.providers.registry import provider_for

from .workflows_support import WORKFLOW, FakeComfyUI

FAST = {"poll_interval": 0.01, "request_timeout": 5}


@pytest.fixture
def comfy():
    server = FakeComfyUI().start()
    yield server
    server.stop()


def provider(server, **config) -> ComfyUIProvider:
    return ComfyUIProvider({"base_url": server.url, **FAST, **config})


def workflow_request(**fields) -> GenerationRequest:
    values = {
        "%prompt%": "a lighthouse at dusk, oil on canvas",
        "%negprompt%": "blurry",
        "%seed%": 1234,
        "%steps%": 25,
        "%cfg%": 6.5,
        "%width%": 96,
        "%height%": 64,
        "%batch%": 2,
        "%model%": "sd_xl_base_1.0.safetensors",
    }
    defaults = {
        "job_id": str(uuid.uuid4()),
        "model_id": "sdxl-comfyui",
        "prompt": "a lighthouse at dusk, oil on canvas",
        "workflow": WORKFLOW,
        "workflow_values": values,
        "batch_size": 2,
        "timeout": 10,
    }
    return GenerationRequest(**{**defaults, **fields})


# --- substitution ------------------------------------------------------------------------------------


def test_a_whole_string_marker_becomes_the_typed_value_and_an_embedded_one_its_text():
    workflow = {
        "1": {"inputs": {"seed": "%seed%", "cfg": "%cfg%", "tiled": "%tiled%", "names": "%names%"}},
        "2": {"inputs": {"filename_prefix": "run-%seed%-%cfg%-%tiled%", "text": "%prompt%"}},
    }
    out = substitute(workflow, {"%seed%": 7, "%cfg%": 6.5, "%tiled%": True, "%names%": ["a", "b"], "%prompt%": "a fox"})
    assert out == {
        "1": {"inputs": {"seed": 7, "cfg": 6.5, "tiled": True, "names": ["a", "b"]}},
        "2": {"inputs": {"filename_prefix": "run-7-6.5-true", "text": "a fox"}},
    }
    assert workflow["1"]["inputs"]["seed"] == "%seed%"  # the template is not changed


def test_longer_markers_win_over_the_markers_they_contain_and_keys_and_links_stay():
    workflow = {"%lora1%": {"inputs": {"a": "%lora1%", "b": "%lora10%", "c": "x %lora10% y %lora1%", "d": ["4", 0]}}}
    out = substitute(workflow, {"%lora1%": "one", "%lora10%": "ten"})
    assert out == {"%lora1%": {"inputs": {"a": "one", "b": "ten", "c": "x ten y one", "d": ["4", 0]}}}


def test_a_value_containing_a_marker_is_not_substituted_again():
    out = substitute({"t": "%a% %b%"}, {"%a%": "%b%", "%b%": "B"})
    assert out == {"t": "%b% B"}


# --- a run -------------------------------------------------------------------------------------------


def test_a_workflow_runs_queued_then_running_then_its_outputs_are_downloaded(comfy):
    request = workflow_request()
    lines = []
    result = provider(comfy).generate(request, progress=lambda fraction, line: lines.append((fraction, line)))

    (prompt_id,) = comfy.prompts
    assert prompt_id == request.job_id == result.provider_ref
    sent = comfy.prompts[prompt_id]
    assert set(sent) == {"prompt", "client_id", "prompt_id"}
    graph = sent["prompt"]
    assert graph["3"]["inputs"]["seed"] == 1234 and isinstance(graph["3"]["inputs"]["seed"], int)
    assert graph["3"]["inputs"]["steps"] == 25
    assert graph["3"]["inputs"]["cfg"] == 6.5
    assert graph["5"]["inputs"] == {"width": 96, "height": 64, "batch_size": 2}
    assert graph["6"]["inputs"]["text"] == "a lighthouse at dusk, oil on canvas"
    assert graph["9"]["inputs"]["filename_prefix"] == "run-1234"
    assert graph["6"]["inputs"]["clip"] == ["4", 1]

    assert len(result.outputs) == 2  # the two saved images; the temp preview is not an output
    for index, output in enumerate(result.outputs):
        assert output.content_type == "image/png"
        assert (output.width, output.height) == (96, 64)
        assert output.is_main_output is True
        assert output.file_name == f"run_00000_{index}.png"
        assert output.data == comfy.files[(output.file_name, "atelier", "output")]
        assert Image.open(io.BytesIO(output.data)).size == (96, 64)
    assert result.info["prompt_id"] == prompt_id
    assert result.info["status"] == "success"
    assert [f["filename"] for f in result.info["outputs"]] == ["run_00000_0.png", "run_00000_1.png"]
    assert result.log[0] == f"Queued on ComfyUI as prompt {prompt_id} (number 1)."
    assert "Waiting in the ComfyUI queue (position 1)." in result.log
    assert "Running on ComfyUI." in result.log
    assert result.log[-1] == "ComfyUI finished: 2 output file(s)."
    assert [line for _, line in lines] == result.log
    assert lines[-1][0] == 1.0
    assert comfy.count("GET", "/view") == 2


def test_output_nodes_restrict_the_outputs_and_previews_count_only_without_saved_files(comfy):
    result = provider(comfy, output_nodes=["12"]).generate(workflow_request(batch_size=1))
    assert len(result.outputs) == 1
    assert (result.outputs[0].width, result.outputs[0].height) == (8, 8)


def test_a_run_left_by_an_earlier_attempt_is_not_queued_again(comfy):
    request = workflow_request()
    first = provider(comfy).generate(request)
    assert comfy.count("POST", "/prompt") == 1
    again = provider(comfy).generate(request)  # a worker crashed after the run; the job runs again
    assert comfy.count("POST", "/prompt") == 1
    assert [o.data for o in again.outputs] == [o.data for o in first.outputs]
    assert again.log[0].startswith("Found the ComfyUI prompt")


# --- failures ----------------------------------------------------------------------------------------


def test_a_refused_workflow_fails_with_the_node_error():
    server = FakeComfyUI(prompt_status=400).start()
    try:
        with pytest.raises(ProviderError) as caught:
            provider(server).generate(workflow_request())
    finally:
        server.stop()
    assert caught.value.transient is False
    assert caught.value.message == (
        "ComfyUI refused the workflow. Node 4 (CheckpointLoaderSimple): Value not in list: "
        "ckpt_name: 'missing.safetensors' not in ['sd_xl_base_1.0.safetensors']"
    )


def test_a_node_that_fails_while_running_fails_the_run_with_its_message():
    server = FakeComfyUI(outcome="error").start()
    try:
        with pytest.raises(ProviderError) as caught:
            provider(server).generate(workflow_request())
    finally:
        server.stop()
    assert caught.value.transient is False
    assert caught.value.message == (
        "Node 3 (KSampler) failed: torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"
    )
    assert server.count("GET", "/view") == 0


def test_a_server_error_is_a_transient_failure():
    server = FakeComfyUI(prompt_status=500).start()
    try:
        with pytest.raises(ProviderError) as caught:
            provider(server).generate(workflow_request())
    finally:
        server.stop()
    assert caught.value.transient is True
    assert caught.value.message == "ComfyUI answered HTTP 500."


def test_a_download_error_fails_the_run():
    server = FakeComfyUI(view_status=500).start()
    try:
        with pytest.raises(ProviderError) as caught:
            provider(server).generate(workflow_request())
    finally:
        server.stop()
    assert caught.value.message == "ComfyUI answered HTTP 500."


def test_an_output_larger_than_the_cap_fails_the_run(comfy):
    with pytest.raises(ProviderError) as caught:
        provider(comfy, max_output_bytes=100).generate(workflow_request())
    assert caught.value.message.startswith("The output run_00000_0.png is larger than 100 bytes")


def test_a_run_past_its_time_limit_times_out_and_is_interrupted():
    server = FakeComfyUI(pending_polls=0, outcome="never").start()
    request = workflow_request(timeout=0.3)
    try:
        with pytest.raises(ProviderTimeout) as caught:
            provider(server).generate(request)
    finally:
        server.stop()
    assert caught.value.message == "ComfyUI did not finish the workflow within 0.3 seconds."
    assert server.interrupts == [{"prompt_id": request.job_id}]


def test_a_run_still_waiting_at_its_time_limit_is_taken_off_the_queue():
    server = FakeComfyUI(pending_polls=10_000).start()
    request = workflow_request(timeout=0.3)
    try:
        with pytest.raises(ProviderTimeout):
            provider(server).generate(request)
    finally:
        server.stop()
    assert server.deletes == [request.job_id]
    assert server.interrupts == []


def test_an_unreachable_server_is_a_transient_failure():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ProviderError) as caught:
        ComfyUIProvider({"base_url": f"http://127.0.0.1:{port}", **FAST}).generate(workflow_request())
    assert caught.value.transient is True
    assert caught.value.message.startswith(f"ComfyUI at http://127.0.0.1:{port} is not reachable")


def test_a_provider_without_base_url_or_with_another_scheme_fails_clearly():
    with pytest.raises(ProviderError, match="no base_url configured"):
        ComfyUIProvider({}).generate(workflow_request())
    with pytest.raises(ProviderError, match="must be an http or https URL"):
        ComfyUIProvider({"base_url": "file:///etc/passwd"}).generate(workflow_request())


# --- cancel, availability, plain generations -------------------------------------------------------------


def test_cancel_interrupts_a_running_prompt_and_deletes_a_waiting_one(comfy):
    comfy.pending_polls = 0
    running = str(uuid.uuid4())
    comfy.prompts[running] = {"prompt": WORKFLOW}
    comfy.order.append(running)
    comfy.polls[running] = 1
    provider(comfy).cancel(running)
    assert comfy.interrupts == [{"prompt_id": running}]
    assert comfy.deletes == []

    comfy.pending_polls = 5
    waiting = str(uuid.uuid4())
    comfy.prompts[waiting] = {"prompt": WORKFLOW}
    comfy.order.append(waiting)
    provider(comfy).cancel(waiting)
    assert comfy.deletes == [waiting]
    assert len(comfy.interrupts) == 1


def test_availability_follows_the_server(comfy):
    assert provider(comfy).is_available() is True
    comfy.stop()
    assert ComfyUIProvider({"base_url": comfy.url, **FAST}).is_available() is False
    assert ComfyUIProvider({}).is_available() is False


def test_expected_runtime_grows_with_steps_size_and_batch():
    comfy = ComfyUIProvider({"runtime_base_seconds": 2, "runtime_per_step_megapixel": 0.1})
    small = comfy.expected_runtime(GenerationRequest(job_id="j", model_id="m", prompt="p", width=1000, height=1000))
    assert small == pytest.approx(2 + 0.1 * 20)
    big = comfy.expected_runtime(
        GenerationRequest(job_id="j", model_id="m", prompt="p", width=1000, height=1000, steps=40, batch_size=2)
    )
    assert big == pytest.approx(2 + 0.1 * 40 * 2)


def test_a_plain_generation_runs_the_built_in_graph_with_the_configured_checkpoint(comfy):
    request = GenerationRequest(
        job_id=str(uuid.uuid4()),
        model_id="sdxl-comfyui",
        prompt="a red fox",
        negative_prompt="fog",
        width=128,
        height=96,
        steps=12,
        cfg_scale=5.5,
        sampler="DPM++ 2M Karras",
        seed=99,
        loras=(("detail.safetensors", 0.7),),
        timeout=10,
    )
    result = provider(comfy, checkpoint="sdxl.safetensors").generate(request)
    graph = next(iter(comfy.prompts.values()))["prompt"]
    assert graph == default_graph(request, "sdxl.safetensors")
    assert graph["4"]["inputs"]["ckpt_name"] == "sdxl.safetensors"
    assert graph["100"]["inputs"]["lora_name"] == "detail.safetensors"
    assert graph["3"]["inputs"]["model"] == ["100", 0]
    assert (graph["3"]["inputs"]["sampler_name"], graph["3"]["inputs"]["scheduler"]) == ("dpmpp_2m", "karras")
    assert graph["5"]["inputs"] == {"width": 128, "height": 96, "batch_size": 1}
    assert len(result.outputs) == 1 and result.outputs[0].width == 128


def test_a_configured_workflow_gets_the_standard_markers(comfy):
    config_workflow = {
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": "%width%", "height": "%height%", "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "%prompt%"}},
        "3": {"class_type": "KSampler", "inputs": {"seed": "%seed%", "sampler_name": "%sampler%"}},
    }
    request = GenerationRequest(job_id=str(uuid.uuid4()), model_id="m", prompt="dunes", width=64, height=64, seed=5)
    provider(comfy, workflow=config_workflow).generate(request)
    graph = next(iter(comfy.prompts.values()))["prompt"]
    assert graph["6"]["inputs"]["text"] == "dunes"
    assert graph["3"]["inputs"] == {"seed": 5, "sampler_name": "dpmpp_2m"}
    assert graph["5"]["inputs"]["width"] == 64


def test_a_plain_generation_without_checkpoint_or_video_workflow_fails_clearly():
    request = GenerationRequest(job_id="j", model_id="m", prompt="p")
    with pytest.raises(ProviderError, match="neither a workflow nor a checkpoint"):
        ComfyUIProvider({"base_url": "http://127.0.0.1:9"}).generate(request)
    video = GenerationRequest(job_id="j", model_id="m", prompt="p", media="video")
    with pytest.raises(ProviderError, match="no video workflow"):
        ComfyUIProvider({"base_url": "http://127.0.0.1:9", "checkpoint": "x"}).generate(video)


def test_the_registry_serves_the_comfyui_provider():
    assert isinstance(provider_for("comfyui", {"base_url": "http://127.0.0.1:9"}), ComfyUIProvider)
