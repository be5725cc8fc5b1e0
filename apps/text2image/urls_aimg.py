"""Routes of AIMG Image Generation (the documented RPC paths)."""

from django.urls import path

from .api.aimg import CatalogueViewSet, GenerationViewSet


def _route(route: str, viewset, method: str, action: str):
    return path(route, viewset.as_view({method: action}), name=action.replace("_", "-"))


urlpatterns = [
    _route("generateImage", GenerationViewSet, "post", "generate_image"),
    _route("generateVideo", GenerationViewSet, "post", "generate_video"),
    _route("getItemStatus", GenerationViewSet, "get", "get_item_status"),
    _route("getModels", CatalogueViewSet, "get", "get_models"),
    _route("getQueuesLength", CatalogueViewSet, "get", "get_queues_length"),
    _route("getSamplePrompts", CatalogueViewSet, "get", "get_sample_prompts"),
]
