"""AUTOMATIC1111 (stable-diffusion-webui started with ``--api``): ``POST /sdapi/v1/txt2img``.

Config (the model's ``provider_config``): ``base_url`` (required), ``timeout`` (seconds, default the
job's), ``username`` / ``password_env`` for a web UI behind ``--api-auth`` (the password is read from
the named environment variable, never stored in the database), ``checkpoint`` (sent as
``override_settings.sd_model_checkpoint``), ``extra`` (more txt2img fields, e.g. ``{"clip_skip": 2}``).
LoRAs go into the prompt as ``<lora:name:strength>``, the web UI's syntax.
"""

from __future__ import annotations

import json
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


class A1111Provider(Provider):
    name = "a1111"

    def client(self, timeout: float) -> HttpClient:
        password_env = self.config.get("password_env", "")
        return HttpClient(
            self.config.get("base_url", ""),
            timeout=float(self.config.get("timeout") or timeout),
            username=self.config.get("username", ""),
            password=os.environ.get(password_env, "") if password_env else "",
            use_env_proxy=bool(self.config.get("use_env_proxy", False)),
            server_name="the AUTOMATIC1111 server",
        )

    def payload(self, request: GenerationRequest) -> dict:
        prompt = request.prompt
        if request.loras:
            prompt = " ".join([prompt, *(f"<lora:{name}:{strength:g}>" for name, strength in request.loras)])
        payload = {
            "prompt": prompt,
            "negative_prompt": request.negative_prompt,
            "seed": request.seed,
            "subseed": request.subseed,
            "subseed_strength": request.subseed_strength,
            "steps": request.steps,
            "cfg_scale": request.cfg_scale,
            "sampler_name": request.sampler,
            "restore_faces": request.restore_faces,
            "width": request.width,
            "height": request.height,
            "batch_size": request.batch_size,
            "n_iter": 1,
            "send_images": True,
            "save_images": False,
        }
        if self.config.get("checkpoint"):
            payload["override_settings"] = {"sd_model_checkpoint": self.config["checkpoint"]}
            payload["override_settings_restore_afterwards"] = True
        extra = self.config.get("extra")
        if isinstance(extra, dict):
            payload.update(extra)
        return payload

    def generate(self, request: GenerationRequest, *, progress: ProgressCallback | None = None) -> GenerationResult:
        if progress is not None:
            progress(0.0, "sent to the AUTOMATIC1111 server")
        data = self.client(request.timeout).post_json("/sdapi/v1/txt2img", self.payload(request))
        if not isinstance(data, dict) or not isinstance(data.get("images"), list):
            raise ProviderError("The AUTOMATIC1111 server answered without images.")
        images = [decode_base64_image(image) for image in data["images"]]
        if len(images) == request.batch_size + 1:
            images = images[1:]  # the web UI puts a grid of the batch first
        info = data.get("info")
        if isinstance(info, str):
            try:
                info = json.loads(info)
            except ValueError:
                info = {"text": info}
        info = info if isinstance(info, dict) else {}
        outputs = [GeneratedOutput(image, "image/png", request.width, request.height) for image in images]
        if progress is not None:
            progress(1.0, f"{len(outputs)} image(s) received")
        return GenerationResult(
            outputs=outputs,
            info={
                "all_seeds": info.get("all_seeds") or [],
                "all_subseeds": info.get("all_subseeds") or [],
                "a1111": info,
            },
        )

    def expected_runtime(self, request: GenerationRequest) -> float:
        return estimated_runtime(self.config, request)

    def is_available(self) -> bool:
        try:
            self.client(5.0).get_json("/sdapi/v1/options", timeout=5.0)
        except ProviderError:
            return False
        return True

    def cancel(self, provider_ref: str) -> None:
        self.client(10.0).request("POST", "/sdapi/v1/interrupt", json_body={}, timeout=10.0)
