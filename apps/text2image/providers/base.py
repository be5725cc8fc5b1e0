"""The one small interface every generation provider implements.

A provider turns a ``GenerationRequest`` into a ``GenerationResult``. It never touches the
database: the job service (``apps.text2image.services.jobs``) owns status, items and files, and
calls the provider from a Celery task (or inline, when the expected runtime is short enough).

Providers are chosen per model in the catalogue (``GenerationModel.provider``) and configured by
that model's ``provider_config`` (a JSON object: base URL, timeouts, checkpoint name, ...).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field


class ProviderError(Exception):
    """The provider could not produce the result; ``message`` is shown to the user as the job's error."""

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.message = message
        self.transient = transient  # worth retrying (connection refused, 503), or final (node error)


class ProviderTimeout(ProviderError):
    """The provider did not finish within the job's time limit."""


@dataclass(frozen=True)
class GenerationRequest:
    job_id: str
    model_id: str
    prompt: str
    negative_prompt: str = ""
    media: str = "image"  # "image" or "video"
    width: int = 512
    height: int = 512
    steps: int = 20
    cfg_scale: float = 7.0
    sampler: str = "DPM++ 2M Karras"
    seed: int = 0
    subseed: int = 0
    subseed_strength: float = 0.0
    restore_faces: bool = False
    batch_size: int = 1
    frame_count: int = 0  # videos: number of frames
    loras: tuple[tuple[str, float], ...] = ()
    # API2/ComfyUI: the template's workflow JSON and the run values by parameter name.
    workflow: dict | None = None
    workflow_values: dict[str, str] = field(default_factory=dict)
    config: dict = field(default_factory=dict)  # the model's provider_config
    timeout: float = 600.0  # seconds


@dataclass
class GeneratedOutput:
    """One item's worth of output: the encoded file and, for videos, its frames (encoded images)."""

    data: bytes
    content_type: str
    width: int
    height: int
    frames: list[bytes] = field(default_factory=list)
    file_name: str = ""
    is_main_output: bool = True


@dataclass
class GenerationResult:
    outputs: list[GeneratedOutput]
    info: dict = field(default_factory=dict)  # provider-specific details (A1111 ``info``, ComfyUI history)
    log: list[str] = field(default_factory=list)
    provider_ref: str = ""  # the provider's own id of the run (ComfyUI prompt_id, ...)


ProgressCallback = Callable[[float, str], None]  # (fraction 0..1, log line)


class Provider(ABC):
    name: str = ""

    def __init__(self, config: dict | None = None):
        self.config = dict(config or {})

    @abstractmethod
    def generate(self, request: GenerationRequest, *, progress: ProgressCallback | None = None) -> GenerationResult:
        """Run the generation and return its outputs; raise ``ProviderError`` on failure."""

    @abstractmethod
    def expected_runtime(self, request: GenerationRequest) -> float:
        """Seconds the generation is expected to take (for queue estimates and inline execution)."""

    def is_available(self) -> bool:
        """Whether the provider can take work now (a reachable server, an installed extra)."""
        return True

    def cancel(self, provider_ref: str) -> None:  # noqa: B027 - optional for providers without remote runs
        """Ask the provider to stop a run it started; nothing to do for in-process providers."""


def estimated_runtime(config: dict, request: GenerationRequest) -> float:
    """The catalogue's estimate: a fixed part plus a cost per step, megapixel, frame and image
    (``runtime_base_seconds`` and ``runtime_per_step_megapixel`` of the model, in ``config``)."""
    base = float(config.get("runtime_base_seconds", 0.05) or 0)
    per_unit = float(config.get("runtime_per_step_megapixel", 0.005) or 0)
    megapixels = request.width * request.height / 1_000_000
    frames = max(1, request.frame_count) if request.media == "video" else 1
    return base + per_unit * max(1, request.steps) * megapixels * frames * max(1, request.batch_size)
