"""AIMG shapes of an item: Image, ImageInfo, ImageThumbnail (Annex: Common Types).

Optional fields are left out when they have no value. ``publicApprovalStatus`` is shown only to the
item's owner and to admins; ``isLiked`` / ``isDisliked`` only to a signed-in viewer.
"""

from datetime import UTC

from apps.accounts.api.serializers import picture_data_uri
from apps.core.api.serializers import public_file_url
from apps.core.dialects.aimg import to_millis

from .. import selectors
from ..models import Item


def _iso(value) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _session(request):
    return getattr(request, "api_session", None) or getattr(getattr(request, "_request", None), "api_session", None)


def file_url(item: Item, request) -> str:
    """The absolute getFile URL of the item's main file ("" while it has none, e.g. still generating)."""
    return public_file_url(item.file_id, request) if item.file_id else ""


def thumbnail_url(item: Item, request) -> str:
    """The absolute URL of the item's thumbnail, or of its main file when it has no separate one."""
    if item.thumbnail_id:
        return public_file_url(item.thumbnail_id, request)
    return file_url(item, request)


def thumbnail_payload(item: Item, *, request) -> dict:
    """The ImageThumbnail object."""
    return {"imageID": str(item.pk), "url": thumbnail_url(item, request)}


class ViewerContext:
    """What a payload needs to know about the requester, computed once per request."""

    def __init__(self, viewer, request, *, items=()):
        self.viewer = viewer
        self.request = request
        self.session = _session(request)
        self.signed_in = bool(viewer is not None and viewer.is_authenticated)
        self._admin = None
        self.loaded = {item.pk for item in items}
        self.reactions = selectors.reactions_of(viewer, self.loaded) if items else {}
        # {folder_id: is_public} of the folders holding the loaded items (one query, none without folders).
        self.folder_kinds = selectors.folder_kinds({item.folder_id for item in items})

    @property
    def admin(self) -> bool:
        """Whether the viewer is an items admin (asked only when the viewer does not own the item)."""
        if self._admin is None:
            self._admin = selectors.is_items_admin(self.viewer)
        return self._admin

    def folder_is_public(self, item: Item) -> bool:
        """Whether the folder holding ``item`` is public (False at the root)."""
        if item.folder_id is None:
            return False
        if item.folder_id not in self.folder_kinds:
            self.folder_kinds.update(selectors.folder_kinds([item.folder_id]))
        return bool(self.folder_kinds.get(item.folder_id, False))

    def folder_wire_id(self, item: Item) -> str:
        """The item's ``folderID`` as the API writes it (``p-<uuid>`` for a public folder)."""
        return selectors.folder_wire_id(item.folder_id, is_public=self.folder_is_public(item))

    def reaction(self, item: Item) -> str | None:
        if item.pk not in self.loaded and self.signed_in:
            self.reactions.update(selectors.reactions_of(self.viewer, [item.pk]))
            self.loaded.add(item.pk)
        return self.reactions.get(item.pk)


def _publicly_visible(item: Item, context: ViewerContext) -> bool:
    return bool(
        item.is_public
        and item.public_approval_status == Item.ApprovalStatus.APPROVED
        and context.folder_is_public(item)
    )


def _common(item: Item, context: ViewerContext) -> dict:
    data = {"id": str(item.pk)}
    if item.owner_id:
        data["userID"] = str(item.owner_id)
    if item.batch_id:
        data["batchID"] = str(item.batch_id)
    return data


def _timestamps(item: Item, data: dict) -> None:
    if item.completed_at is not None:
        data["completedDate"] = to_millis(item.completed_at)
        data["completedTimestamp"] = _iso(item.completed_at)


def _viewer_fields(item: Item, context: ViewerContext, data: dict) -> None:
    data["tags"] = list(item.tags or [])
    if context.signed_in:
        reaction = context.reaction(item)
        data["isLiked"] = reaction == "like"
        data["isDisliked"] = reaction == "dislike"
    data["isPublic"] = item.is_public
    data["isPubliclyVisible"] = _publicly_visible(item, context)
    if selectors.is_owner(item, context.viewer, session=context.session) or context.admin:
        data["publicApprovalStatus"] = item.public_approval_status
    if item.folder_id:
        data["folderID"] = context.folder_wire_id(item)


def _context(viewer, request, context) -> ViewerContext:
    return context if context is not None else ViewerContext(viewer, request)


def image_payload(item: Item, *, viewer, request, context: ViewerContext | None = None) -> dict:
    """The Image object."""
    context = _context(viewer, request, context)
    data = _common(item, context)
    data["url"] = file_url(item, request)
    data["viewCount"] = item.view_count
    data["likeCount"] = item.like_count
    data["dislikeCount"] = item.dislike_count
    _timestamps(item, data)
    data["mtype"] = item.media_kind
    data["mediaType"] = item.model_media_type
    _viewer_fields(item, context, data)
    if item.folder_id and item.folder_added_at is not None:
        data["folderAddedDate"] = to_millis(item.folder_added_at)
        data["folderAddedTimestamp"] = _iso(item.folder_added_at)
    return data


def sample_payload(item: Item, *, request) -> dict:
    """The reduced Image object of sample and latest items (no viewer-specific fields)."""
    data = {"id": str(item.pk), "url": file_url(item, request)}
    _timestamps(item, data)
    data["mtype"] = item.media_kind
    data["mediaType"] = item.model_media_type
    data["isPublic"] = item.is_public
    return data


def _loras(item: Item) -> tuple[list, list]:
    names, strengths = [], []
    for entry in item.loras or []:
        if isinstance(entry, dict):
            names.append(str(entry.get("name", "")))
            strengths.append(entry.get("strength", 1))
    return names, strengths


def image_info_payload(item: Item, *, viewer, request, context: ViewerContext | None = None) -> dict:
    """The ImageInfo object (the owner's username and picture need ``owner`` loaded)."""
    context = _context(viewer, request, context)
    data = _common(item, context)
    if item.owner_id:
        data["username"] = item.owner.username
        data["profilePicture"] = picture_data_uri(item.owner)
    data["url"] = file_url(item, request)
    data["viewCount"] = item.view_count
    data["likeCount"] = item.like_count
    data["dislikeCount"] = item.dislike_count
    _timestamps(item, data)
    data["prompt"] = item.prompt
    if item.negative_prompt:
        data["negprompt"] = item.negative_prompt
    data["generatorVersion"] = item.generator_version
    if item.generator_version == "2":
        data["workflowTemplateName"] = item.workflow_template_name
        data["workflowRunParameters"] = [
            {"name": str(p.get("name", "")), "value": str(p.get("value", ""))}
            for p in item.workflow_run_parameters or []
            if isinstance(p, dict)
        ]
    data["modelName"] = item.model_name
    data["modelID"] = item.model
    data["steps"] = item.steps
    data["seed"] = item.seed
    data["subseed"] = item.subseed
    data["subseed_strength"] = item.subseed_strength
    data["lora"], data["lora_strength"] = _loras(item)
    data["sampler"] = item.sampler
    data["cfgscale"] = item.cfg_scale
    data["restoreFaces"] = item.restore_faces
    data["height"] = item.height
    data["width"] = item.width
    data["mtype"] = item.media_kind
    _viewer_fields(item, context, data)
    return data


def image_payloads(items, *, viewer, request, info: bool = False) -> list[dict]:
    """Image (or ImageInfo) objects of a page of items, with the viewer's reactions read in one query."""
    items = list(items)
    context = ViewerContext(viewer, request, items=items)
    build = image_info_payload if info else image_payload
    return [build(item, viewer=viewer, request=request, context=context) for item in items]
