"""The OpenAI-compatible images provider against a real HTTP server started by the test."""

import base64
import threading

import pytest

from apps.text2image.providers.base import GenerationRequest, ProviderError, ProviderTimeout
from apps.text2image.providers.openai import OpenAIImagesProvider, request_json

from .engine_support import fake_server, png_bytes


def request(**changes) -> GenerationRequest:
    values = {"job_id": "j", "model_id": "img", "prompt": "a fox", "width": 1024, "height": 1024, "batch_size": 2}
    values.update(changes)
    return GenerationRequest(**values)


def test_images_generations_gets_the_prompt_size_and_key(monkeypatch):
    monkeypatch.setenv("IMAGES_KEY", "sk-test")
    first, second = png_bytes(colour=(9, 9, 9)), png_bytes(colour=(8, 8, 8))

    def handler(method, path, body, headers):
        return 200, {
            "created": 1700000000,
            "data": [
                {"b64_json": base64.b64encode(first).decode(), "revised_prompt": "a red fox"},
                {"b64_json": base64.b64encode(second).decode()},
            ],
        }

    with fake_server(handler) as server:
        config = {
            "base_url": server.url,
            "api_key_env": "IMAGES_KEY",
            "model": "gpt-image-1",
            "extra": {"quality": "low"},
        }
        result = OpenAIImagesProvider(config).generate(request())
    (sent,) = server.requests
    assert (sent["method"], sent["path"]) == ("POST", "/v1/images/generations")
    assert sent["headers"]["Authorization"] == "Bearer sk-test"
    assert sent["body"] == {
        "prompt": "a fox",
        "n": 2,
        "size": "1024x1024",
        "model": "gpt-image-1",
        "response_format": "b64_json",
        "quality": "low",
    }
    assert [output.data for output in result.outputs] == [first, second]
    assert result.info == {"created": 1700000000, "revised_prompts": ["a red fox"]}


def test_an_api_error_carries_the_servers_message():
    def handler(*args):
        return 400, {"error": {"message": "Your request was rejected by the safety system.", "type": "invalid_request"}}

    with fake_server(handler) as server, pytest.raises(ProviderError) as failure:
        OpenAIImagesProvider({"base_url": server.url}).generate(request())
    assert failure.value.message == (
        "The OpenAI-compatible server answered HTTP 400: Your request was rejected by the safety system."
    )
    assert failure.value.transient is False


def test_rate_limits_are_transient_and_slow_servers_time_out():
    limited = fake_server(lambda *a: (429, {"error": {"message": "Rate limit reached"}}))
    with limited as server, pytest.raises(ProviderError) as failure:
        OpenAIImagesProvider({"base_url": server.url}).generate(request())
    assert failure.value.transient is True
    release = threading.Event()

    def slow(*args):
        release.wait(10)
        return 200, {"data": []}

    with fake_server(slow) as server:
        try:
            with pytest.raises(ProviderTimeout):
                OpenAIImagesProvider({"base_url": server.url, "timeout": 0.5}).generate(request())
        finally:
            release.set()


def test_an_image_url_pointing_at_a_private_address_is_not_fetched():
    linking = fake_server(lambda *a: (200, {"data": [{"url": "http://127.0.0.1:1/secret.png"}]}))
    with linking as server, pytest.raises(ProviderError) as failure:
        OpenAIImagesProvider({"base_url": server.url}).generate(request(batch_size=1))
    assert failure.value.message.startswith("The image the OpenAI-compatible server linked could not be fetched")
    assert len(server.requests) == 1


def test_no_images_is_an_error_and_request_json_posts_anything():
    with fake_server(lambda *a: (200, {"data": []})) as server, pytest.raises(ProviderError) as failure:
        OpenAIImagesProvider({"base_url": server.url}).generate(request())
    assert failure.value.message == "The OpenAI-compatible server answered without images."
    with fake_server(lambda *a: (200, {"choices": [{"message": {"content": "hi"}}]})) as server:
        answer = request_json({"base_url": server.url}, "/v1/chat/completions", {"model": "m", "messages": []})
    assert answer["choices"][0]["message"]["content"] == "hi"
    assert server.requests[0]["body"] == {"model": "m", "messages": []}
