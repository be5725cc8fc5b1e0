"""In-process generation with Hugging Face ``diffusers`` (the optional ``diffusers`` extra, for GPU workers).

Install with ``pip install .[diffusers]``. Config: ``model_path`` (a local directory holding a
pipeline saved with ``save_pretrained``; nothing is downloaded: ``local_files_only``), ``device``
(``cuda``, ``cpu``, ``mps``; default ``cuda`` when available), ``dtype`` (``float16``, ``bfloat16``,
``float32``; default float16 on CUDA, float32 elsewhere). Pipelines are loaded once per worker
process and kept. Samplers map onto diffusers schedulers; a subseed with a strength blends the
starting noise of two seeds (spherically), as variations do elsewhere.
"""

from __future__ import annotations

import importlib.util
import io
import threading

from .base import (
    GeneratedOutput,
    GenerationRequest,
    GenerationResult,
    ProgressCallback,
    Provider,
    ProviderError,
    estimated_runtime,
)

_PIPELINES: dict = {}
_LOCK = threading.Lock()
SCHEDULERS = {
    "Euler a": ("EulerAncestralDiscreteScheduler", {}),
    "Euler": ("EulerDiscreteScheduler", {}),
    "DDIM": ("DDIMScheduler", {}),
    "DPM++ 2M": ("DPMSolverMultistepScheduler", {}),
    "DPM++ 2M Karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "DPM++ SDE Karras": (
        "DPMSolverMultistepScheduler",
        {"use_karras_sigmas": True, "algorithm_type": "sde-dpmsolver++"},
    ),
}


def installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "diffusers"))


def _slerp(t: float, low, high):
    """Spherical interpolation between two noise tensors (``t`` 0: ``low``, 1: ``high``)."""
    import torch

    low_norm = low / torch.norm(low)
    high_norm = high / torch.norm(high)
    dot = (low_norm * high_norm).sum().clamp(-1.0, 1.0)
    if float(dot.abs()) > 0.9995:
        return (1.0 - t) * low + t * high
    omega = torch.acos(dot)
    sin = torch.sin(omega)
    return (torch.sin((1.0 - t) * omega) / sin) * low + (torch.sin(t * omega) / sin) * high


class DiffusersProvider(Provider):
    name = "diffusers"

    def _settings(self):
        import torch

        device = self.config.get("device") or ("cuda" if torch.cuda.is_available() else "cpu")
        default_dtype = "float16" if device == "cuda" else "float32"
        dtype = getattr(torch, self.config.get("dtype") or default_dtype, None)
        if dtype is None:
            raise ProviderError(f"Unknown dtype {self.config.get('dtype')!r} for the diffusers provider.")
        return device, dtype

    def pipeline(self):
        if not installed():
            raise ProviderError("The diffusers provider needs the diffusers extra: pip install .[diffusers]")
        path = self.config.get("model_path")
        if not path:
            raise ProviderError("The diffusers provider has no model_path configured.")
        device, dtype = self._settings()
        key = (path, device, str(dtype))
        with _LOCK:
            pipe = _PIPELINES.get(key)
            if pipe is None:
                from diffusers import AutoPipelineForText2Image

                try:
                    pipe = AutoPipelineForText2Image.from_pretrained(path, dtype=dtype, local_files_only=True)
                except (OSError, ValueError) as exc:
                    raise ProviderError(f"The diffusers pipeline at {path} cannot be loaded: {exc}") from exc
                pipe = pipe.to(device)
                pipe.set_progress_bar_config(disable=True)
                _PIPELINES[key] = pipe
        return pipe

    def _scheduler(self, pipe, sampler: str):
        import diffusers

        name, options = SCHEDULERS.get(sampler, (None, {}))
        if name is None:
            return pipe.scheduler
        return getattr(diffusers, name).from_config(pipe.scheduler.config, **options)

    def _noise(self, pipe, request: GenerationRequest, seed: int, subseed: int, device, dtype):
        import torch

        channels = pipe.unet.config.in_channels
        factor = getattr(pipe, "vae_scale_factor", 8)
        shape = (1, channels, request.height // factor, request.width // factor)
        noise = torch.randn(shape, generator=torch.Generator("cpu").manual_seed(seed), dtype=torch.float32)
        if request.subseed_strength > 0:
            other = torch.randn(shape, generator=torch.Generator("cpu").manual_seed(subseed), dtype=torch.float32)
            noise = _slerp(float(request.subseed_strength), noise, other)
        return noise.to(device=device, dtype=dtype)

    def generate(self, request: GenerationRequest, *, progress: ProgressCallback | None = None) -> GenerationResult:
        import torch

        pipe = self.pipeline()
        device, dtype = self._settings()
        outputs, seeds, subseeds = [], [], []
        total = max(1, request.batch_size)
        with _LOCK:  # one run at a time per process: the scheduler is shared by the pipeline
            pipe.scheduler = self._scheduler(pipe, request.sampler)
            for index in range(total):
                seed, subseed = request.seed + index, request.subseed + index

                def on_step(pipeline, step, timestep, kwargs, index=index):
                    if progress is not None:
                        done = (index + (step + 1) / max(1, request.steps)) / total
                        progress(min(done, 1.0), "")
                    return kwargs

                with torch.inference_mode():
                    result = pipe(
                        prompt=request.prompt,
                        negative_prompt=request.negative_prompt or None,
                        num_inference_steps=request.steps,
                        guidance_scale=request.cfg_scale,
                        width=request.width,
                        height=request.height,
                        latents=self._noise(pipe, request, seed, subseed, device, dtype),
                        # Ancestral samplers add noise at every step: seeded too, so a seed gives one picture.
                        generator=torch.Generator(device).manual_seed(seed),
                        callback_on_step_end=on_step,
                    )
                image = result.images[0]
                buffer = io.BytesIO()
                image.save(buffer, "PNG")
                outputs.append(GeneratedOutput(buffer.getvalue(), "image/png", image.width, image.height))
                seeds.append(seed)
                subseeds.append(subseed)
        return GenerationResult(outputs=outputs, info={"all_seeds": seeds, "all_subseeds": subseeds})

    def expected_runtime(self, request: GenerationRequest) -> float:
        return estimated_runtime(self.config, request)

    def is_available(self) -> bool:
        return installed() and bool(self.config.get("model_path"))
