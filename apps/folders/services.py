"""Writes of the folders app: folders, their contents and thumbnails, moves between folders.

Concurrency: every use case locks the folders it changes (``SELECT … FOR UPDATE`` in id order)
before the items it moves (also in id order), and tag rows last — the same order the items app
follows when it deletes items — so two requests never deadlock and never interleave on a folder.
``imageCount`` and the sample images are computed from the items when read; the thumbnails are
rows capped at four by database constraints; so neither can drift.

An item enters a public folder only while it is public and approved (Annex: Public Items Approval
Workflow); each refused item gets a reason. Placing an item in a folder sets ``folder_added_at`` and
moves its library sort key (``reference_at``) to now; taking it out (to the root folder) clears
``folder_added_at`` and moves the sort key too, as for an item just added to the root folder.
"""

import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from apps.core.errors import InvalidInput, NotFound

from . import selectors
from .models import MAX_THUMBNAILS, Folder, FolderThumbnail

MAX_IDS = 1000

NOT_IN_LIBRARY = "No item with this id is in your library."
NOT_IN_SOURCE = "The item is not in the source folder."
NOT_IN_ROOT = "The item is not in the root folder."
SAME_FOLDER = "The source and the destination are the same folder: the item stays where it is."
REFUSALS = {
    "none": "The item is not approved for public display: submit it for approval first (publicApprovalStatus pending).",
    "pending": "The item is still waiting for public approval.",
    "rejected": "The item was rejected for public display.",
}
NOT_PUBLIC = "The item is approved but not public: set isPublic to true first."


def _items():
    from apps.items.models import Item

    return Item


def _ids(values) -> list[uuid.UUID]:
    """Unique ids in the order given."""
    return list(dict.fromkeys(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)) for value in values))


def public_refusal(item) -> str | None:
    """Why ``item`` may not enter a public folder, or None when it may (public and approved)."""
    status = item.public_approval_status
    if status != "approved":
        return REFUSALS.get(status, REFUSALS["none"])
    if not item.is_public:
        return NOT_PUBLIC
    return None


@dataclass(frozen=True)
class ItemOutcome:
    """One entry of a per-item answer (``{"id", "success", "message"}``, message only on failure)."""

    id: str
    success: bool
    message: str = ""

    def as_dict(self) -> dict:
        data = {"id": self.id, "success": self.success}
        if not self.success:
            data["message"] = self.message
        return data


@dataclass
class ThumbnailOutcome:
    """``success``, ``modified`` and ``actual`` of the thumbnail endpoints (item ids)."""

    success: bool
    modified: list = field(default_factory=list)
    actual: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "success": self.success,
            "modified": [str(pk) for pk in self.modified],
            "actual": [str(pk) for pk in self.actual],
        }


# --- locking -------------------------------------------------------------------------------------------


def _lock_folders(folder_ids) -> dict:
    ids = sorted({pk for pk in folder_ids if pk is not None})
    if not ids:
        return {}
    rows = Folder.all_objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {folder.pk: folder for folder in rows}


def lock_folders_of_items(item_ids) -> dict:
    """Lock the folders that hold these items, before the items themselves are locked.

    For the items app, which deletes items: it must lock folders first, like every folder use case.
    Every folder of the items' owners is locked, not only those the items are in when this reads
    them: an item moved meanwhile would lead to a folder locked late, out of order, and a deadlock
    with a move that holds it. An item only ever sits in a folder of its owner, and owners do not
    change, so this set is complete however the items move.
    """
    owners = _items().all_objects.filter(pk__in=list(item_ids)).values_list("owner_id", flat=True).distinct()
    return _lock_folders(Folder.all_objects.filter(owner_id__in=list(owners)).values_list("pk", flat=True))


def lock_folders_of(*, owner) -> dict:
    """Lock every folder of ``owner`` (before locking all of their items)."""
    return _lock_folders(Folder.all_objects.filter(owner=owner).values_list("pk", flat=True))


def _locked_folder(folder: Folder) -> Folder:
    folder = _lock_folders([folder.pk]).get(folder.pk)
    if folder is None or folder.is_deleted:
        raise NotFound(selectors.NOT_FOUND)
    return folder


def _lock_with_items(owner, item_ids, folders: dict) -> dict:
    """Lock the folders now holding these items (besides ``folders``, already locked), then the
    items of ``owner``'s library among them. Returns ``{id: item}``; ``folders`` gains the locks."""
    from apps.items.selectors import owned_items

    library = owned_items(owner)
    before = set(library.filter(pk__in=item_ids).values_list("folder_id", flat=True)) - {None} - set(folders)
    folders.update(_lock_folders(before))
    rows = library.select_for_update(of=("self",)).filter(pk__in=item_ids).order_by("pk")
    items = {item.pk: item for item in rows}
    # An item moved meanwhile to a folder not locked yet (rare): lock that one too.
    late = {item.folder_id for item in items.values()} - {None} - set(folders)
    folders.update(_lock_folders(late))
    return items


def _touch(folder_ids, now) -> None:
    ids = {pk for pk in folder_ids if pk is not None}
    if ids:
        Folder.all_objects.filter(pk__in=ids).update(updated_at=now)


def _move(items: list, target: Folder | None, now) -> None:
    """Put locked ``items`` into ``target`` (None: the root folder), dropping their thumbnail links
    elsewhere, and mark the folders they left and entered as updated."""
    if not items:
        return
    ids = [item.pk for item in items]
    left = {item.folder_id for item in items} - {None}
    _items().all_objects.filter(pk__in=ids).update(
        folder=target,
        folder_added_at=now if target is not None else None,
        reference_at=now,
        updated_at=now,
    )
    FolderThumbnail.objects.filter(item_id__in=ids).exclude(folder=target).delete()
    _touch(left | ({target.pk} if target is not None else set()), now)
    for item in items:
        item.folder_id = target.pk if target is not None else None


def items_left_folders(*, item_ids, folder_ids, now=None) -> None:
    """For the items app: these items left their folders (deleted). Their thumbnail links go and the
    folders count as updated. Call it with the folders locked (``lock_folders_of_items``)."""
    if item_ids:
        FolderThumbnail.objects.filter(item_id__in=list(item_ids)).delete()
    _touch(folder_ids, now or timezone.now())


# --- folders -------------------------------------------------------------------------------------------


def _clean_name(name) -> str:
    value = name.strip() if isinstance(name, str) else ""
    if not value:
        raise InvalidInput("The folder name must not be empty.", errors={("name",): ["Must not be empty."]})
    return value


@transaction.atomic
def create_folder(*, owner, name: str, description: str = "", is_public: bool) -> Folder:
    """A new, empty folder of ``owner`` (createSelfFolder / createPublicFolder)."""
    return Folder.objects.create(
        owner=owner, name=_clean_name(name), description=(description or "").strip(), is_public=is_public
    )


@transaction.atomic
def update_folder(*, folder: Folder, name: str | None = None, description: str | None = None) -> Folder:
    """Rename and/or re-describe a folder; ``description=""`` clears it. At least one must be given."""
    if name is None and description is None:
        message = "Give folderName and/or folderDescription."
        raise InvalidInput(message, errors={("folderName",): [message]})
    folder = _locked_folder(folder)
    changes = {"updated_at": timezone.now()}
    if name is not None:
        changes["name"] = _clean_name(name)
    if description is not None:
        changes["description"] = description.strip()
    Folder.objects.filter(pk=folder.pk).update(**changes)
    for key, value in changes.items():
        setattr(folder, key, value)
    return folder


@transaction.atomic
def delete_folder(*, folder: Folder) -> None:
    """Soft-delete a folder: its items go back to the root folder, its thumbnails go, its tags stop
    counting (they stay on the row, and count again if the folder is restored)."""
    from apps.tags import services as tags

    folder = _locked_folder(folder)
    now = timezone.now()
    items = list(
        _items().objects.select_for_update(of=("self",)).filter(folder_id=folder.pk).order_by("pk").only("pk", "folder")
    )
    _move(items, None, now)
    FolderThumbnail.objects.filter(folder=folder).delete()
    Folder.all_objects.filter(pk=folder.pk).update(deleted_at=now, updated_at=now)
    folder.deleted_at = now
    tags.release(rows=[(folder.owner_id, folder.tags)])


@transaction.atomic
def restore_folders(*, folder_ids) -> list[ItemOutcome]:
    """Restore soft-deleted folders (back office): name, description, kind and tags come back; the
    folder is empty, its former items stay where they are now."""
    from apps.tags import services as tags

    ids = _ids(folder_ids)
    folders = _lock_folders(ids)
    now = timezone.now()
    results = []
    for pk in ids:
        folder = folders.get(pk)
        if folder is None:
            results.append(ItemOutcome(str(pk), False, "No folder has this id."))
        elif not folder.is_deleted:
            results.append(ItemOutcome(str(pk), False, "The folder is not deleted."))
        else:
            Folder.all_objects.filter(pk=pk).update(deleted_at=None, updated_at=now)
            tags.claim(owner_id=folder.owner_id, names=folder.tags or [])
            results.append(ItemOutcome(str(pk), True))
    return results


@transaction.atomic
def delete_all_folders_of(*, user) -> int:
    """Soft-delete every live folder of a deleted user (their items are deleted by the items app)."""
    folders = [folder for folder in lock_folders_of(owner=user).values() if not folder.is_deleted]
    for folder in folders:
        delete_folder(folder=folder)
    return len(folders)


@transaction.atomic
def migrate_folders(*, source, destination) -> int:
    """Give every live folder of ``source`` to ``destination`` (migrateLibrary); deleted ones stay.
    Call it before the items move: it locks the folders first, as every folder use case does."""
    from apps.tags import services as tags

    folders = [folder for folder in lock_folders_of(owner=source).values() if not folder.is_deleted]
    if not folders:
        return 0
    Folder.all_objects.filter(pk__in=[folder.pk for folder in folders]).update(owner=destination)
    tags.transfer(rows=[(source.pk, folder.tags) for folder in folders], destination_owner_id=destination.pk)
    return len(folders)


# --- contents ------------------------------------------------------------------------------------------


@dataclass
class Placement:
    """What placing items did: the ids now in the folder as asked, and why each other id was not."""

    placed: list = field(default_factory=list)
    refused: dict = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return bool(self.placed)


def _place(owner, target: Folder, item_ids, *, folders: dict) -> Placement:
    items = _lock_with_items(owner, item_ids, folders)
    now = timezone.now()
    result, moving = Placement(), []
    for pk in item_ids:
        item = items.get(pk)
        if item is None:
            result.refused[pk] = NOT_IN_LIBRARY
        elif item.folder_id == target.pk:
            result.placed.append(pk)
        elif target.is_public and (reason := public_refusal(item)):
            result.refused[pk] = reason
        else:
            moving.append(item)
            result.placed.append(pk)
    _move(moving, target, now)
    return result


@transaction.atomic
def add_items(*, folder: Folder, item_ids) -> Placement:
    """Put items of the folder owner's library into ``folder`` (addImagesTo…Folder), from the root
    or from another folder. Items already there count as placed; unknown, foreign and deleted items,
    and for a public folder items that are not public and approved, are refused with a reason."""
    ids = _ids(item_ids)
    folders = {}
    folders.update(_lock_folders([folder.pk]))
    target = folders.get(folder.pk)
    if target is None or target.is_deleted:
        raise NotFound(selectors.NOT_FOUND)
    return _place(folder.owner, target, ids, folders=folders)


@transaction.atomic
def remove_items(*, folder: Folder, item_ids) -> Placement:
    """Take items out of ``folder`` into the root folder (removeImagesFrom…Folder); ids of items that
    are not in it are refused."""
    ids = _ids(item_ids)
    target = _locked_folder(folder)
    items = _lock_with_items(folder.owner, ids, {target.pk: target})
    result, moving = Placement(), []
    for pk in ids:
        item = items.get(pk)
        if item is None:
            result.refused[pk] = NOT_IN_LIBRARY
        elif item.folder_id != target.pk:
            result.refused[pk] = "The item is not in this folder."
        else:
            moving.append(item)
            result.placed.append(pk)
    _move(moving, None, timezone.now())
    return result


@transaction.atomic
def move_items(*, owner, source: Folder | None, destination: Folder | None, item_ids) -> list[ItemOutcome]:
    """Move items from ``source`` to ``destination`` (None: the root folder), private or public
    (moveItemsBetweenFolders). One outcome per id, in the order given (repeats answered once); when
    source and destination are the same folder nothing moves and each item says so."""
    ids = _ids(item_ids)
    source_pk = source.pk if source is not None else None
    destination_pk = destination.pk if destination is not None else None
    folders = _lock_folders([source_pk, destination_pk])
    for wanted in (source_pk, destination_pk):
        if wanted is not None and (wanted not in folders or folders[wanted].is_deleted):
            raise NotFound(selectors.NOT_FOUND)
    target = folders.get(destination_pk)
    items = _lock_with_items(owner, ids, folders)
    now = timezone.now()
    outcomes, moving = [], []
    for pk in ids:
        item = items.get(pk)
        if item is None:
            outcomes.append(ItemOutcome(str(pk), False, NOT_IN_LIBRARY))
        elif item.folder_id != source_pk:
            outcomes.append(ItemOutcome(str(pk), False, NOT_IN_ROOT if source_pk is None else NOT_IN_SOURCE))
        elif source_pk == destination_pk:
            outcomes.append(ItemOutcome(str(pk), False, SAME_FOLDER))
        elif target is not None and target.is_public and (reason := public_refusal(item)):
            outcomes.append(ItemOutcome(str(pk), False, reason))
        else:
            moving.append(item)
            outcomes.append(ItemOutcome(str(pk), True))
    _move(moving, target, now)
    return outcomes


def place_new_items(*, folder: Folder | None, item_ids: list) -> list:
    """Put freshly generated items in ``folder`` (from ``resolve_target_folder``); None does nothing.

    For the generation engine: call it inside the transaction that created the items (with
    ``folder_id=None``, owned by the folder's owner). The folder is locked, so counts, sample images
    and ``updatedDate`` stay right. The public-folder rules apply: an item that is not public and
    approved (a new item never is) stays in the root folder, as does every item when the folder was
    deleted meanwhile. Returns the ids placed.
    """
    if folder is None or not item_ids:
        return []
    with transaction.atomic():
        folders = _lock_folders([folder.pk])
        target = folders.get(folder.pk)
        if target is None or target.is_deleted:
            return []
        return _place(target.owner, target, _ids(item_ids), folders=folders).placed


# --- thumbnails ----------------------------------------------------------------------------------------


def _thumbnail_candidates(folder: Folder, ids) -> list:
    """The ids among ``ids`` (order kept) of live items of the folder's owner that are in the folder."""
    from apps.items.selectors import owned_items

    inside = set(owned_items(folder.owner).filter(pk__in=ids, folder_id=folder.pk).values_list("pk", flat=True))
    return [pk for pk in ids if pk in inside]


def _write_thumbnails(folder: Folder, item_ids: list) -> None:
    FolderThumbnail.objects.filter(folder=folder).delete()
    FolderThumbnail.objects.bulk_create(
        [FolderThumbnail(folder=folder, item_id=pk, position=index) for index, pk in enumerate(item_ids)]
    )


@transaction.atomic
def add_thumbnails(*, folder: Folder, item_ids) -> ThumbnailOutcome:
    """Add items of the folder as thumbnails, after the current ones, while fewer than four are set.
    Items not in the folder, and items already thumbnails, are skipped."""
    ids = _ids(item_ids)
    folder = _locked_folder(folder)
    current = selectors.thumbnail_ids(folder)
    wanted = [pk for pk in _thumbnail_candidates(folder, ids) if pk not in current]
    added = wanted[: max(MAX_THUMBNAILS - len(current), 0)]
    if added:
        _write_thumbnails(folder, current + added)
    return ThumbnailOutcome(success=bool(added), modified=added, actual=current + added)


@transaction.atomic
def remove_thumbnails(*, folder: Folder, item_ids) -> ThumbnailOutcome:
    """Remove thumbnails of a folder; ids that are not thumbnails are skipped."""
    ids = set(_ids(item_ids))
    folder = _locked_folder(folder)
    current = selectors.thumbnail_ids(folder)
    removed = [pk for pk in current if pk in ids]
    actual = [pk for pk in current if pk not in ids]
    if removed:
        _write_thumbnails(folder, actual)
    return ThumbnailOutcome(success=bool(removed), modified=removed, actual=actual)


@transaction.atomic
def set_thumbnails(*, folder: Folder, item_ids) -> ThumbnailOutcome:
    """Replace a folder's thumbnails with items of the folder (at most four; others are skipped).
    Fails (``success`` false, nothing changed) when ids were given and none is in the folder."""
    ids = _ids(item_ids)
    if len(ids) > MAX_THUMBNAILS:
        message = f"A folder has at most {MAX_THUMBNAILS} thumbnails; {len(ids)} were given."
        raise InvalidInput(message, errors={("imageIDs",): [message]})
    folder = _locked_folder(folder)
    current = selectors.thumbnail_ids(folder)
    wanted = _thumbnail_candidates(folder, ids)
    if ids and not wanted:
        return ThumbnailOutcome(success=False, modified=[], actual=current)
    if wanted != current:
        _write_thumbnails(folder, wanted)
    return ThumbnailOutcome(success=True, modified=wanted, actual=wanted)
