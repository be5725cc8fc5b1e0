"""Routes of the AIMG item writes (deletion, restore, properties, approval, protection, migration)."""

from django.urls import path

from .api.aimg_writes import ItemWriteViewSet


def _route(route: str, method: str, action: str):
    return path(route, ItemWriteViewSet.as_view({method: action}), name=action.replace("_", "-"))


urlpatterns = [
    _route("deleteItems", "delete", "delete_items"),
    _route("restoreItems", "post", "restore_items"),
    _route("setItemProperties", "post", "set_item_properties"),
    _route("setPublicApprovalStatus", "post", "set_public_approval_status"),
    _route("setProtected", "post", "set_protected"),
    _route("migrateLibrary", "post", "migrate_library"),
]
