"""Which provider class serves a model: ``provider_for(model_or_name, config=None)``.

The built-in names map to classes in this package; the GENERATION_PROVIDERS setting may add names or
replace a class with another (a dotted path), e.g. ``{"a1111": "myplugins.providers.Forge"}``.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from .base import Provider, ProviderError

BUILT_IN = {
    "procedural": "apps.text2image.providers.procedural.ProceduralProvider",
    "comfyui": "apps.text2image.providers.comfyui.ComfyUIProvider",
    "a1111": "apps.text2image.providers.a1111.A1111Provider",
    "openai": "apps.text2image.providers.openai.OpenAIImagesProvider",
    "diffusers": "apps.text2image.providers.diffusers.DiffusersProvider",
}
# Model fields the default expected-runtime estimate reads (providers see them in their config).
RUNTIME_KEYS = ("runtime_base_seconds", "runtime_per_step_megapixel")


def provider_names() -> dict[str, str]:
    return {**BUILT_IN, **(getattr(settings, "GENERATION_PROVIDERS", None) or {})}


def provider_class(name: str) -> type[Provider]:
    path = provider_names().get(name)
    if path is None:
        raise ProviderError(f"There is no generation provider named {name!r}.")
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ProviderError(f"The {name} provider is not installed on this server ({exc}).") from exc
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise ProviderError(f"{path} is not a generation provider.")
    return cls


def provider_for(model_or_name, config: dict | None = None) -> Provider:
    """The provider of a catalogue model (configured by its ``provider_config``), or of a provider
    name with ``config``. ProviderError when the provider cannot be loaded."""
    if isinstance(model_or_name, str):
        name, merged = model_or_name, dict(config or {})
    else:
        model = model_or_name
        name = model.provider
        merged = {**(model.provider_config or {}), **(config or {})}
        for key in RUNTIME_KEYS:
            merged.setdefault(key, getattr(model, key))
    return provider_class(name)(merged)
