"""The AUTOMATIC1111 provider against a real HTTP server started by the test: the txt2img request,
decoding, the grid, ``info``, failures, time-outs, and a whole job through it."""

import base64
import json
import threading

import pytest

from apps.items.models import Item
from apps.text2image.providers.a1111 import A1111Provider
from apps.text2image.providers.base import GenerationRequest, ProviderError, ProviderTimeout
from apps.text2image.services import jobs
from tests.factories import UserFactory

from .engine_support import closed_port, fake_server, png_bytes, schedule


def request(**changes) -> GenerationRequest:
    values = {
        "job_id": "job-1",
        "model_id": "sd15",
        "prompt": "a lighthouse",
        "negative_prompt": "fog",
        "width": 512,
        "height": 768,
        "steps": 25,
        "cfg_scale": 6.5,
        "sampler": "Euler a",
        "seed": 10,
        "subseed": 20,
        "subseed_strength": 0.3,
        "restore_faces": True,
        "batch_size": 2,
        "loras": (("film", 0.8),),
        "timeout": 5,
    }
    values.update(changes)
    return GenerationRequest(**values)


def answer(images, info=None):
    encoded = [base64.b64encode(image).decode() for image in images]
    return 200, {"images": encoded, "parameters": {}, "info": json.dumps(info or {})}


def test_txt2img_gets_every_parameter_and_its_images_and_info_come_back():
    red, blue = png_bytes(colour=(255, 0, 0)), png_bytes(colour=(0, 0, 255))
    info = {"all_seeds": [10, 11], "all_subseeds": [20, 21], "sd_model_name": "v1-5"}
    with fake_server(lambda method, path, body, headers: answer([red, blue], info)) as server:
        provider = A1111Provider({"base_url": server.url, "checkpoint": "v1-5.safetensors"})
        result = provider.generate(request())
    (sent,) = server.requests
    assert (sent["method"], sent["path"]) == ("POST", "/sdapi/v1/txt2img")
    assert sent["body"] == {
        "prompt": "a lighthouse <lora:film:0.8>",
        "negative_prompt": "fog",
        "seed": 10,
        "subseed": 20,
        "subseed_strength": 0.3,
        "steps": 25,
        "cfg_scale": 6.5,
        "sampler_name": "Euler a",
        "restore_faces": True,
        "width": 512,
        "height": 768,
        "batch_size": 2,
        "n_iter": 1,
        "send_images": True,
        "save_images": False,
        "override_settings": {"sd_model_checkpoint": "v1-5.safetensors"},
        "override_settings_restore_afterwards": True,
    }
    assert [output.data for output in result.outputs] == [red, blue]
    assert result.info["all_seeds"] == [10, 11] and result.info["a1111"]["sd_model_name"] == "v1-5"


def test_the_grid_image_of_a_batch_is_dropped():
    grid, first, second = png_bytes(colour=(1, 1, 1)), png_bytes(colour=(2, 2, 2)), png_bytes(colour=(3, 3, 3))
    with fake_server(lambda *a: answer([grid, first, second])) as server:
        result = A1111Provider({"base_url": server.url}).generate(request())
    assert [output.data for output in result.outputs] == [first, second]


def test_basic_auth_password_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("A1111_PASSWORD", "s3cret")
    with fake_server(lambda *a: answer([png_bytes()])) as server:
        A1111Provider({"base_url": server.url, "username": "me", "password_env": "A1111_PASSWORD"}).generate(
            request(batch_size=1)
        )
    assert server.requests[0]["headers"]["Authorization"] == "Basic " + base64.b64encode(b"me:s3cret").decode()


def test_a_server_error_is_a_provider_error_with_its_message():
    def failing(*args):
        return 500, {"error": "OutOfMemoryError", "detail": "CUDA out of memory. Tried to allocate 2.00 GiB"}

    with fake_server(failing) as server, pytest.raises(ProviderError) as failure:
        A1111Provider({"base_url": server.url}).generate(request())
    assert failure.value.message == (
        "The AUTOMATIC1111 server answered HTTP 500: CUDA out of memory. Tried to allocate 2.00 GiB"
    )
    assert failure.value.transient is True


def test_a_validation_error_is_final():
    def refusing(*args):
        return 422, {"detail": [{"loc": ["body", "sampler_name"], "msg": "Sampler not found: Foo"}]}

    with fake_server(refusing) as server, pytest.raises(ProviderError) as failure:
        A1111Provider({"base_url": server.url}).generate(request())
    assert failure.value.message == "The AUTOMATIC1111 server answered HTTP 422: Sampler not found: Foo"
    assert failure.value.transient is False


def test_a_server_that_does_not_answer_in_time_times_out():
    release = threading.Event()

    def slow(*args):
        release.wait(10)
        return answer([png_bytes()])

    with fake_server(slow) as server:
        try:
            with pytest.raises(ProviderTimeout) as failure:
                A1111Provider({"base_url": server.url, "timeout": 0.5}).generate(request())
        finally:
            release.set()
    assert failure.value.message == "The AUTOMATIC1111 server did not answer within 0.5 seconds."


def test_an_answer_without_images_and_an_unreachable_server_are_errors():
    with fake_server(lambda *a: (200, {"detail": "nothing"})) as server, pytest.raises(ProviderError) as failure:
        A1111Provider({"base_url": server.url}).generate(request())
    assert failure.value.message == "The AUTOMATIC1111 server answered without images."
    provider = A1111Provider({"base_url": f"http://127.0.0.1:{closed_port()}"})
    with pytest.raises(ProviderError) as failure:
        provider.generate(request())
    assert failure.value.transient and "cannot be reached" in failure.value.message
    assert provider.is_available() is False


@pytest.mark.django_db
def test_a_job_runs_through_the_a1111_server_and_fills_its_items(models):
    model = models["sd15-a1111"]
    model.enabled = True
    with fake_server(lambda *a: answer([png_bytes(512, 640)], {"all_seeds": [77], "all_subseeds": [88]})) as server:
        model.provider_config = {"base_url": server.url}
        model.save()
        job = schedule(model, owner=UserFactory(), values={"seed": 77, "subseed": 88, "width": 512, "height": 640})
        done = jobs.run_job(job_id=job.pk)
        assert server.requests[0]["path"] == "/sdapi/v1/txt2img"
    assert done.status == "completed"
    assert done.info["result"]["all_seeds"] == [77]
    item = Item.objects.get(generation_id=str(job.pk))
    assert (item.status, item.width, item.height, item.seed, item.subseed) == ("completed", 512, 640, 77, 88)


@pytest.mark.django_db
def test_a_node_error_fails_the_job_with_the_servers_message(models):
    model = models["sd15-a1111"]
    model.enabled = True
    with fake_server(lambda *a: (422, {"detail": "Model not loaded"})) as server:
        model.provider_config = {"base_url": server.url}
        model.save()
        done = jobs.run_job(job_id=schedule(model, owner=UserFactory()).pk)
    assert (done.status, done.error_message) == (
        "failed",
        "The AUTOMATIC1111 server answered HTTP 422: Model not loaded",
    )
    assert Item.all_objects.get(generation_id=str(done.pk)).status == "failed"
