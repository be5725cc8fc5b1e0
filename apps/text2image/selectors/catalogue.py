"""Reads of the model catalogue and the sample prompts."""

import random

from django.conf import settings
from django.db.models import QuerySet

from ..models import GenerationModel, SamplePrompt

DEFAULT_IMAGE_MODEL = "f222"
DEFAULT_VIDEO_MODEL = "model3"


def get_model(model_id) -> GenerationModel | None:
    """The model with this modelID, enabled or not; None when there is none."""
    if not isinstance(model_id, str) or not model_id:
        return None
    return GenerationModel.objects.filter(model_id=model_id).first()


def enabled_models(model_ids: list[str] | None = None) -> QuerySet[GenerationModel]:
    """The enabled models in their configured order, optionally only those with these ids."""
    models = GenerationModel.objects.filter(enabled=True).order_by("position", "model_id")
    if model_ids is not None:
        models = models.filter(model_id__in=model_ids)
    return models


def default_model_id(*, video: bool) -> str:
    """The modelID generateImage / generateVideo use when none is given."""
    if video:
        return getattr(settings, "GENERATION_DEFAULT_VIDEO_MODEL", DEFAULT_VIDEO_MODEL)
    return getattr(settings, "GENERATION_DEFAULT_IMAGE_MODEL", DEFAULT_IMAGE_MODEL)


def usable_model_ids(*, video: bool) -> list[str]:
    """The enabled models of one kind (image or video), for error messages."""
    return [model.model_id for model in enabled_models() if model.makes_video == video]


def sample_prompts() -> QuerySet[SamplePrompt]:
    return SamplePrompt.objects.filter(enabled=True).order_by("position", "created_at", "id")


def random_sample_prompt() -> SamplePrompt | None:
    """One enabled sample prompt chosen at random (two queries, whatever the table's size)."""
    prompts = sample_prompts()
    count = prompts.count()
    if not count:
        return None
    return prompts[random.randrange(count)]  # noqa: S311 - a sample, not a secret
