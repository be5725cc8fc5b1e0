"""OpenAI-compatible image generation: ``POST /v1/images/generations``.

Config: ``base_url`` (default ``https://api.openai.com``), ``api_key_env`` (the environment variable
holding the API key, default ``OPENAI_API_KEY``; keys are never stored in the database), ``model``
(e.g. ``gpt-image-1``, ``dall-e-3``), ``response_format`` (default ``b64_json``; ``null`` to send
none, as gpt-image-1 wants), ``extra`` (more request fields: ``quality``, ``style``, ...),
``timeout``. Images the server returns as URLs are fetched through ``apps.core.net`` (public
addresses only, size-capped), since those URLs come from the server's answer.

``request_json`` is the plain JSON POST with the same authentication, for chat endpoints too.
"""

from __future__ import annotations

import os

from .base import (
    GeneratedOutput,
    GenerationRequest,
    GenerationResult,
    ProgressCallback,
    Provider,
    ProviderError,
    estimated_runtime,
)
from .http import HttpClient, decode_base64_image

DEFAULT_BASE_URL = "https://api.openai.com"
MAX_IMAGE_BYTES = 50 * 1024 * 1024


def openai_client(config: dict, *, timeout: float, server_name: str = "the OpenAI-compatible server") -> HttpClient:
    key_env = config.get("api_key_env", "OPENAI_API_KEY")
    key = os.environ.get(key_env, "") if key_env else ""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if config.get("organization"):
        headers["OpenAI-Organization"] = str(config["organization"])
    return HttpClient(
        config.get("base_url") or DEFAULT_BASE_URL,
        timeout=float(config.get("timeout") or timeout),
        headers=headers,
        use_env_proxy=bool(config.get("use_env_proxy", False)),
        server_name=server_name,
    )


def request_json(config: dict, path: str, payload: dict, *, timeout: float = 120.0):
    """POST ``payload`` to ``path`` of the configured OpenAI-compatible server and return its JSON."""
    return openai_client(config, timeout=timeout).post_json(path, payload)


class OpenAIImagesProvider(Provider):
    name = "openai"

    def payload(self, request: GenerationRequest) -> dict:
        payload = {"prompt": request.prompt, "n": request.batch_size, "size": f"{request.width}x{request.height}"}
        if self.config.get("model"):
            payload["model"] = self.config["model"]
        response_format = self.config.get("response_format", "b64_json")
        if response_format:
            payload["response_format"] = response_format
        extra = self.config.get("extra")
        if isinstance(extra, dict):
            payload.update(extra)
        return payload

    def generate(self, request: GenerationRequest, *, progress: ProgressCallback | None = None) -> GenerationResult:
        client = openai_client(self.config, timeout=request.timeout)
        data = client.post_json("/v1/images/generations", self.payload(request))
        entries = data.get("data") if isinstance(data, dict) else None
        if not isinstance(entries, list) or not entries:
            raise ProviderError("The OpenAI-compatible server answered without images.")
        outputs, revised = [], []
        for entry in entries:
            if not isinstance(entry, dict):
                raise ProviderError("The OpenAI-compatible server sent an image entry that is not an object.")
            if entry.get("b64_json"):
                content = decode_base64_image(entry["b64_json"])
            elif entry.get("url"):
                content = self._fetch(entry["url"], request.timeout)
            else:
                raise ProviderError("The OpenAI-compatible server sent an image entry without b64_json or url.")
            outputs.append(GeneratedOutput(content, "image/png", request.width, request.height))
            if entry.get("revised_prompt"):
                revised.append(entry["revised_prompt"])
        if progress is not None:
            progress(1.0, f"{len(outputs)} image(s) received")
        info = {"created": data.get("created")}
        if revised:
            info["revised_prompts"] = revised
        return GenerationResult(outputs=outputs, info=info)

    def _fetch(self, url: str, timeout: float) -> bytes:
        from apps.core.net import FetchFailed, FetchTimeout, FetchTooLarge, UnsafeURL, safe_fetch

        try:
            return safe_fetch(url, max_bytes=MAX_IMAGE_BYTES, total_timeout=min(timeout, 120.0)).content
        except (UnsafeURL, FetchFailed, FetchTooLarge, FetchTimeout) as exc:
            raise ProviderError(
                f"The image the OpenAI-compatible server linked could not be fetched: {exc.message}"
            ) from exc

    def expected_runtime(self, request: GenerationRequest) -> float:
        return estimated_runtime(self.config, request)
