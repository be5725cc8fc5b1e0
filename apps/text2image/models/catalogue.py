"""The model catalogue: AI generation models (the AIMG Model object) and sample prompts."""

from django.db import models
from django.db.models import F, Q

from apps.core.models import BaseModel

__all__ = ["GenerationModel", "SamplePrompt"]

DEFAULT_SAMPLER = "DPM++ 2M Karras"
# The CFG scale range the spec allows for every model; a model may narrow it.
CFG_SCALE_RANGE = (1.0, 12.0)


def _default_sizes():
    return [512, 768]


def _default_samplers():
    return [DEFAULT_SAMPLER, "Euler a", "DDIM"]


def _default_resolution():
    return [512, 512]


class GenerationModel(BaseModel):
    """One AI generation model as AIMG ``getModels`` describes it, plus how Atelier runs it.

    ``provider`` chooses the provider class (``providers.registry``) and ``provider_config`` is its
    JSON configuration (base URL, timeouts, checkpoint, ...). Jobs of a model go to its Celery queue
    ``queue_name`` (premium tiers to ``priority_queue_name``, which holds ``-p1-``).
    """

    class Provider(models.TextChoices):
        PROCEDURAL = "procedural", "Procedural (built in)"
        COMFYUI = "comfyui", "ComfyUI"
        A1111 = "a1111", "AUTOMATIC1111"
        OPENAI = "openai", "OpenAI-compatible"
        DIFFUSERS = "diffusers", "Diffusers (in process)"

    class MediaType(models.TextChoices):
        STATIC_IMAGE = "StaticImage"
        ANIMATED_IMAGE = "AnimatedImage"
        VIDEO = "Video"
        TEXT = "Text"
        MUSIC = "Music"
        OTHER = "Other"
        UNKNOWN = "Unknown"

    # --- identity and display ------------------------------------------------------------------------
    model_id = models.CharField("modelID", max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    media_type = models.CharField(max_length=16, choices=MediaType.choices, default=MediaType.STATIC_IMAGE)
    position = models.IntegerField(default=0, help_text="getModels lists models by position, then modelID.")
    enabled = models.BooleanField(default=True, help_text="Disabled models are neither listed nor usable.")
    wiki_url = models.URLField("wiki URL", max_length=500, blank=True)
    positive_tokens = models.JSONField(default=list, blank=True)
    negative_tokens = models.JSONField(default=list, blank=True)
    sample_images = models.JSONField(default=list, blank=True, help_text='ImageThumbnail objects: [{"imageID", "url"}]')

    # --- access ---------------------------------------------------------------------------------------
    min_tier = models.PositiveSmallIntegerField(default=0)
    tier0_concurrent = models.PositiveSmallIntegerField(default=1)
    tier1_concurrent = models.PositiveSmallIntegerField(default=2)
    tier2_concurrent = models.PositiveSmallIntegerField(default=4, help_text="Also the limit of higher tiers.")
    registration_wall = models.BooleanField(default=False, help_text="Guests must sign up to use the model.")

    # --- parameters -----------------------------------------------------------------------------------
    min_steps = models.PositiveSmallIntegerField(default=1)
    max_steps = models.PositiveSmallIntegerField(default=50)
    default_steps = models.PositiveSmallIntegerField(default=20)
    allowed_widths = models.JSONField(default=_default_sizes)
    allowed_heights = models.JSONField(default=_default_sizes)
    max_resolution = models.PositiveIntegerField(default=768 * 768, help_text="Largest width x height in pixels.")
    default_resolution = models.JSONField(default=_default_resolution, help_text="[width, height]")
    allowed_samplers = models.JSONField(default=_default_samplers)
    default_sampler = models.CharField(max_length=100, default=DEFAULT_SAMPLER)
    min_cfg_scale = models.FloatField(default=1.0)
    max_cfg_scale = models.FloatField(default=12.0)
    default_cfg_scale = models.FloatField(default=7.0)
    supports_variations = models.BooleanField(default=True)
    default_face_fix = models.BooleanField(default=False)
    frame_count = models.PositiveSmallIntegerField(default=0, help_text="Videos: frames per video (0 for images).")
    frame_duration_ms = models.PositiveIntegerField(default=125, help_text="Videos: how long each frame shows.")

    # --- execution ------------------------------------------------------------------------------------
    provider = models.CharField(max_length=20, choices=Provider.choices, default=Provider.PROCEDURAL)
    provider_config = models.JSONField(default=dict, blank=True, help_text="The provider's settings (JSON object).")
    queue_name = models.CharField(
        max_length=150, blank=True, help_text="Celery queue of the model's jobs (default: t2i-<modelID>)."
    )
    runtime_base_seconds = models.FloatField(default=0.05, help_text="Expected runtime: fixed part, in seconds.")
    runtime_per_step_megapixel = models.FloatField(
        default=0.005, help_text="Expected runtime: seconds per step and megapixel (and per frame for videos)."
    )
    timeout_seconds = models.PositiveIntegerField(
        default=0, help_text="Longest a run may take before it fails (0: the GENERATION_JOB_TIMEOUT setting)."
    )

    class Meta:
        ordering = ["position", "model_id"]
        constraints = [
            models.CheckConstraint(condition=Q(min_steps__gte=1), name="genmodel_min_steps_positive"),
            models.CheckConstraint(condition=Q(min_steps__lte=F("max_steps")), name="genmodel_steps_range"),
            models.CheckConstraint(
                condition=Q(default_steps__gte=F("min_steps")) & Q(default_steps__lte=F("max_steps")),
                name="genmodel_default_steps_in_range",
            ),
            models.CheckConstraint(
                condition=Q(min_cfg_scale__gte=CFG_SCALE_RANGE[0])
                & Q(max_cfg_scale__lte=CFG_SCALE_RANGE[1])
                & Q(min_cfg_scale__lte=F("max_cfg_scale")),
                name="genmodel_cfg_range",
            ),
            models.CheckConstraint(
                condition=Q(default_cfg_scale__gte=F("min_cfg_scale")) & Q(default_cfg_scale__lte=F("max_cfg_scale")),
                name="genmodel_default_cfg_in_range",
            ),
            models.CheckConstraint(condition=Q(max_resolution__gte=1), name="genmodel_max_resolution_positive"),
            models.CheckConstraint(
                condition=Q(provider__in=["procedural", "comfyui", "a1111", "openai", "diffusers"]),
                name="genmodel_provider_known",
            ),
            models.CheckConstraint(
                condition=Q(
                    media_type__in=["StaticImage", "AnimatedImage", "Video", "Text", "Music", "Other", "Unknown"]
                ),
                name="genmodel_media_type_known",
            ),
            models.CheckConstraint(
                condition=Q(runtime_base_seconds__gte=0) & Q(runtime_per_step_megapixel__gte=0),
                name="genmodel_runtime_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.model_id})"

    # --- derived --------------------------------------------------------------------------------------
    @property
    def makes_video(self) -> bool:
        return self.media_type in (self.MediaType.VIDEO, self.MediaType.ANIMATED_IMAGE)

    @property
    def queue(self) -> str:
        return self.queue_name or f"t2i-{self.model_id}"

    @property
    def priority_queue(self) -> str:
        """The premium queue: its name holds ``-p1-`` (getQueuesLength documents that)."""
        return f"{self.queue}-p1-"

    def concurrency_for(self, tier: int) -> int:
        """How many items a user of ``tier`` may have generating at once with this model."""
        if tier <= 0:
            return self.tier0_concurrent
        if tier == 1:
            return self.tier1_concurrent
        return self.tier2_concurrent

    @property
    def default_width(self) -> int:
        return int(self.default_resolution[0])

    @property
    def default_height(self) -> int:
        return int(self.default_resolution[1])


class SamplePrompt(BaseModel):
    """A prompt the front end offers as an example (AIMG Prompt, ``getSamplePrompts``)."""

    positive_prompt = models.TextField()
    negative_prompt = models.TextField(blank=True)
    user = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sample_prompts",
        help_text="Who wrote the prompt, if it is credited to a user.",
    )
    enabled = models.BooleanField(default=True)
    position = models.IntegerField(default=0)

    class Meta:
        ordering = ["position", "created_at", "id"]

    def __str__(self):
        return self.positive_prompt[:80]
