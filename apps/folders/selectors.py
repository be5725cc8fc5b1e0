"""Reads of the folders app: folder ids, permission-scoped folder lists, and what a folder shows.

A folder shows its owner every live item it holds; anyone else sees only its publicly visible
items (public and approved: Annex "Public Items Approval Workflow"), and sees a public folder only
while it holds at least one such item. Counts, sample images and thumbnails are computed from the
items when read, with a constant number of queries per page.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, Window
from django.db.models.functions import Coalesce, RowNumber

from apps.core.errors import InvalidInput, NotFound

from .models import MAX_THUMBNAILS, PUBLIC_PREFIX, Folder, FolderThumbnail

ROOT = "root"
SAMPLE_SIZE = 4

NOT_FOUND = "No folder with this id is yours."
PUBLIC_ID_ON_PRIVATE = "This is a public folder id (p-…): use the public folder endpoints, or give a private folder id."
PRIVATE_ID_ON_PUBLIC = "Public folder ids start with 'p-': this is not a public folder id."
MALFORMED = "Must be a folder id: a UUID for a private folder, 'p-' and a UUID for a public one."


def _signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated)


# --- ids -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FolderRef:
    """A parsed wire folder id."""

    pk: uuid.UUID
    is_public: bool


def parse_folder_id(raw, *, public: bool | None = None, field: str = "folderID") -> FolderRef:
    """Parse a wire folder id: ``p-<uuid>`` names a public folder, a bare UUID a private one.

    ``public`` True or False insists on that kind (a ``p-`` id on a private endpoint, or the
    reverse, is refused); None takes either. Raises ``InvalidInput`` naming ``field``.
    """

    def refuse(message):
        return InvalidInput(f"{field}: {message}", errors={(field,): [message]})

    if not isinstance(raw, str):
        raise refuse("Must be a string.")
    value = raw.strip()
    is_public = value[: len(PUBLIC_PREFIX)].lower() == PUBLIC_PREFIX
    body = value[len(PUBLIC_PREFIX) :] if is_public else value
    try:
        pk = uuid.UUID(body)
    except ValueError:
        raise refuse(MALFORMED) from None
    if len(body) not in (32, 36):  # uuid.UUID also takes "{...}" and "urn:uuid:" forms
        raise refuse(MALFORMED)
    if public is True and not is_public:
        raise refuse(PRIVATE_ID_ON_PUBLIC)
    if public is False and is_public:
        raise refuse(PUBLIC_ID_ON_PRIVATE)
    return FolderRef(pk=pk, is_public=is_public)


def parse_folder_ids(raw: str, *, public: bool | None, field: str = "folderIDs", limit: int = 1000) -> list[FolderRef]:
    """A comma-separated list of wire folder ids (at most ``limit``; an empty string names none)."""
    if not raw.strip():
        return []
    values = [part.strip() for part in raw.split(",")]
    if len(values) > limit:
        message = f"Give at most {limit} folder ids."
        raise InvalidInput(f"{field}: {message}", errors={(field,): [message]})
    return list(dict.fromkeys(parse_folder_id(value, public=public, field=field) for value in values))


# --- lookups -------------------------------------------------------------------------------------------


def own_folders(user) -> QuerySet[Folder]:
    """The live folders of a signed-in user (none for a guest)."""
    if not _signed_in(user):
        return Folder.objects.none()
    return Folder.objects.filter(owner=user)


def own_folder(user, ref: FolderRef) -> Folder:
    """The caller's live folder named by ``ref`` (of that kind), else ``NotFound``."""
    folder = own_folders(user).filter(pk=ref.pk, is_public=ref.is_public).first()
    if folder is None:
        raise NotFound(NOT_FOUND)
    return folder


def resolve_target_folder(*, user, folder_id: str | None) -> Folder | None:
    """The folder new items go to: ``None`` (the root folder) when ``folder_id`` is empty.

    For the generation endpoints' ``folderID``: ``p-<uuid>`` names one of the user's public folders,
    a bare UUID one of their private folders. A malformed id raises ``InvalidInput`` (400, naming
    ``folderID``); an id that is not one of the user's live folders (unknown, someone else's, deleted,
    or of the other kind) raises ``NotFound`` (404) — the errors the folder endpoints answer. A guest
    has no folders. Pass the folder to ``apps.folders.services.place_new_items`` once the items exist.
    """
    if folder_id is None or (isinstance(folder_id, str) and not folder_id.strip()):
        return None
    ref = parse_folder_id(folder_id, public=None)
    if not _signed_in(user):
        raise NotFound(NOT_FOUND)
    return own_folder(user, ref)


def public_folder_ids(folder_ids=None) -> frozenset:
    """Which of ``folder_ids`` are live public folders (every live public folder when None)."""
    folders = Folder.objects.filter(is_public=True)
    if folder_ids is not None:
        ids = {pk for pk in folder_ids if pk is not None}
        if not ids:
            return frozenset()
        folders = folders.filter(pk__in=ids)
    return frozenset(folders.values_list("pk", flat=True))


def folder_kinds(folder_ids) -> dict:
    """``{folder_id: is_public}`` of the live folders among ``folder_ids`` (one query, none when empty)."""
    ids = {pk for pk in folder_ids if pk is not None}
    if not ids:
        return {}
    return dict(Folder.objects.filter(pk__in=ids).values_list("pk", "is_public"))


# --- what a viewer sees ---------------------------------------------------------------------------------


def _items():
    from apps.items.models import Item

    return Item


def shown_items_q(viewer, *, prefix: str = "") -> Q:
    """The items of a folder the viewer sees: the owner's own (an item in a folder always belongs to
    the folder's owner), and anyone's publicly visible ones."""
    from apps.items.selectors import publicly_visible_q

    condition = publicly_visible_q(prefix=prefix)
    if _signed_in(viewer):
        condition |= Q(**{f"{prefix}owner": viewer})
    return condition


def _image_count(viewer):
    items = (
        _items()
        .objects.filter(shown_items_q(viewer), folder_id=OuterRef("pk"))
        .order_by()
        .values("folder_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(items, output_field=IntegerField()), Value(0))


def with_image_count(folders: QuerySet[Folder], viewer) -> QuerySet[Folder]:
    """Annotate ``image_count``: the items of each folder the viewer sees (one subquery)."""
    return folders.annotate(image_count=_image_count(viewer))


def listed_public_folders(viewer, *, domain) -> QuerySet[Folder]:
    """Public folders of the site the viewer may list: their own, and others' holding a publicly
    visible item ("Folders are dynamically made public depending on their content")."""
    from apps.items.selectors import publicly_visible_q

    has_public_item = Exists(_items().objects.filter(publicly_visible_q(), folder_id=OuterRef("pk")))
    visible = Q(has_public_item)
    if _signed_in(viewer):
        visible |= Q(owner=viewer)
    return Folder.objects.filter(is_public=True, owner__domain=domain).filter(visible)


@dataclass
class FolderPreview:
    """What a page of folders shows besides its columns: sample items and thumbnails, per folder."""

    samples: dict
    thumbnails: dict


def previews(folders, viewer) -> FolderPreview:
    """The sample items (the 4 most recently added, automatic) and the thumbnails (user-set, at most
    4, in their order) of each folder the viewer sees: two queries for the whole page."""
    ids = [folder.pk for folder in folders]
    samples, thumbnails = defaultdict(list), defaultdict(list)
    if not ids:
        return FolderPreview(samples, thumbnails)
    ranked = (
        _items()
        .objects.filter(shown_items_q(viewer), folder_id__in=ids)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("folder_id")],
                order_by=[F("folder_added_at").desc(nulls_last=True), F("reference_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=SAMPLE_SIZE)
        .only("id", "folder_id", "file_id", "thumbnail_id", "folder_added_at", "reference_at")
        .order_by("folder_id", "rank")
    )
    for item in ranked:
        samples[item.folder_id].append(item)
    links = (
        FolderThumbnail.objects.filter(folder_id__in=ids, item__folder_id=F("folder_id"))
        .filter(shown_items_q(viewer, prefix="item__"), item__deleted_at__isnull=True)
        .select_related("item")
        .only("folder_id", "position", "item__id", "item__file_id", "item__thumbnail_id")
        .order_by("folder_id", "position")
    )
    for link in links:
        thumbnails[link.folder_id].append(link.item)
    return FolderPreview(samples, thumbnails)


def thumbnail_ids(folder: Folder) -> list[uuid.UUID]:
    """The ids of a folder's thumbnails in order (those still in the folder)."""
    return list(
        FolderThumbnail.objects.filter(folder=folder, item__folder_id=folder.pk, item__deleted_at__isnull=True)
        .order_by("position")
        .values_list("item_id", flat=True)[:MAX_THUMBNAILS]
    )
