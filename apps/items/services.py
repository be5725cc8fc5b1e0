"""Writes of the items app: one function per use case."""

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core.errors import Conflict, InvalidInput, NotFound

from .models import Item, Reaction


@dataclass(frozen=True)
class ItemResult:
    """One entry of a per-id answer (``{"id", "success", "message"}``)."""

    id: str
    success: bool
    message: str = ""

    def as_dict(self) -> dict:
        data = {"id": self.id, "success": self.success}
        if not self.success:
            data["message"] = self.message
        return data


NOT_FOUND = "No item with this id exists, or you may not see it."


def adopt_guest_items(*, session, user) -> int:
    """Move a guest session's items to the user who signed in with it."""
    return Item.all_objects.filter(guest_session=session, owner__isnull=True).update(owner=user)


@transaction.atomic
def soft_delete_all_items_of(*, user) -> int:
    """Soft-delete every live item of a deleted user (protected ones included: the account is gone),
    taking them out of their folders and clearing their tags like any deletion."""
    from apps.folders import services as folders

    folders.lock_folders_of(owner=user)
    ids = list(
        Item.objects.select_for_update(of=("self",)).filter(owner=user).order_by("pk").values_list("pk", flat=True)
    )
    return _soft_delete(Item.objects.filter(pk__in=ids))


def count_view(*, item: Item) -> None:
    """One more view of ``item`` (an F() update: concurrent views all count)."""
    Item.objects.filter(pk=item.pk).update(view_count=F("view_count") + 1)


# --- reactions ---------------------------------------------------------------------------------------

_COUNTER = {Reaction.Kind.LIKE: "like_count", Reaction.Kind.DISLIKE: "dislike_count"}


def _bump(item_id, kind: str, delta: int) -> None:
    field = _COUNTER[kind]
    Item.all_objects.filter(pk=item_id).update(**{field: F(field) + delta})


def set_reactions(*, user, visible, item_ids: list, kind: str, add: bool) -> list[ItemResult]:
    """Like, unlike, dislike or undislike items for ``user``.

    ``visible`` is the queryset of items the user may see; other ids fail. Adding a reaction
    replaces the opposite one. The items are locked (in id order, so two requests never deadlock)
    while their reactions and counters change, which keeps the counters exact under concurrency.
    Unliking an item that is not liked (and the like) succeeds without changing anything.
    """
    item_ids = [value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)) for value in item_ids]
    unique_ids = list(dict.fromkeys(item_ids))
    with transaction.atomic():
        locked = set(
            visible.select_for_update(of=("self",))
            .filter(pk__in=unique_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        current = dict(Reaction.objects.filter(user=user, item_id__in=locked).values_list("item_id", "kind"))
        for item_id in sorted(locked):
            existing = current.get(item_id)
            if add:
                if existing == kind:
                    continue
                if existing is None:
                    Reaction.objects.create(user=user, item_id=item_id, kind=kind)
                else:
                    Reaction.objects.filter(user=user, item_id=item_id).update(kind=kind, updated_at=timezone.now())
                    _bump(item_id, existing, -1)
                _bump(item_id, kind, +1)
            elif existing == kind:
                Reaction.objects.filter(user=user, item_id=item_id, kind=kind).delete()
                _bump(item_id, kind, -1)
    return [
        ItemResult(str(item_id), True) if item_id in locked else ItemResult(str(item_id), False, NOT_FOUND)
        for item_id in item_ids
    ]


# --- deletion, restore, approval, protection, migration ----------------------------------------------

MAX_PENDING_PER_USER = 50
Approval = Item.ApprovalStatus

ALREADY_DELETED = "The item is already deleted."
PROTECTED = "The item is protected and cannot be deleted; contact an admin."
NOT_YOURS = "The item does not belong to you; contact an admin."
NOT_DELETED = "The item is not deleted."


def _unique(ids) -> list:
    return list(dict.fromkeys(ids))


def _locked(queryset, ids) -> dict:
    """The items of ``queryset`` with these ids, locked for update (in id order: no deadlock)."""
    rows = queryset.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
    return {item.pk: item for item in rows}


@transaction.atomic
def delete_items(*, item_ids: list, may_delete) -> list[ItemResult]:
    """Soft-delete items, removing them from their folder and clearing their tags (AIMG deleteItems).

    ``may_delete(item)`` says whether the caller may delete that item (its owner, or an admin).
    Protected items are never deleted. Every id gets an answer, in the order given.
    """
    from apps.folders import services as folders

    ids = _unique(item_ids)
    folders.lock_folders_of_items(ids)  # folders before items: the lock order of every folder use case
    items = _locked(Item.all_objects.all(), ids)
    results, deletable = {}, []
    for item_id in ids:
        item = items.get(item_id)
        if item is None:
            results[item_id] = ItemResult(str(item_id), False, NOT_FOUND)
        elif not may_delete(item):
            # Deleted or not, someone else's item is reported the same way.
            results[item_id] = ItemResult(str(item_id), False, NOT_YOURS)
        elif item.is_deleted:
            results[item_id] = ItemResult(str(item_id), False, ALREADY_DELETED)
        elif item.is_protected:
            results[item_id] = ItemResult(str(item_id), False, PROTECTED)
        else:
            deletable.append(item_id)
            results[item_id] = ItemResult(str(item_id), True)
    _soft_delete(Item.all_objects.filter(pk__in=deletable))
    return [results[item_id] for item_id in ids]


def _soft_delete(queryset) -> int:
    """Mark live items deleted, out of their folders (whose thumbnails and ``updatedDate`` follow) and
    untagged (their tags stop counting). Call it with the items' folders and the items locked."""
    from apps.folders import services as folders
    from apps.tags import services as tags

    live = queryset.filter(deleted_at__isnull=True)
    rows = list(live.values_list("pk", "folder_id", "owner_id", "tags"))
    now = timezone.now()
    count = live.update(deleted_at=now, folder=None, folder_added_at=None, tags=[], updated_at=now)
    folders.items_left_folders(
        item_ids=[pk for pk, folder_id, _, _ in rows if folder_id is not None],
        folder_ids={folder_id for _, folder_id, _, _ in rows},
        now=now,
    )
    tags.release(rows=[(owner_id, names) for _, _, owner_id, names in rows if names])
    return count


@transaction.atomic
def delete_all_items(*, owner) -> list[ItemResult]:
    """Soft-delete every live item of ``owner`` except the protected ones (deleteItems with userID)."""
    from apps.folders import services as folders

    folders.lock_folders_of(owner=owner)  # folders before items: the lock order of every folder use case
    items = list(Item.objects.select_for_update(of=("self",)).filter(owner=owner).order_by("pk"))
    _soft_delete(Item.objects.filter(pk__in=[item.pk for item in items if not item.is_protected]))
    return [
        ItemResult(str(item.pk), False, PROTECTED) if item.is_protected else ItemResult(str(item.pk), True)
        for item in items
    ]


def _restore(queryset) -> int:
    """The restore rules: back to the root folder, sorted as just added, untagged, not public;
    the public approval status is kept. (A deleted item is in no folder and its tags were released
    when it was deleted, so no folder or tag count changes here.)"""
    now = timezone.now()
    return queryset.filter(deleted_at__isnull=False).update(
        deleted_at=None,
        folder=None,
        folder_added_at=None,
        reference_at=now,
        tags=[],
        is_public=False,
        updated_at=now,
    )


@transaction.atomic
def restore_items(*, item_ids: list) -> list[ItemResult]:
    """Restore deleted items, whoever owns them (AIMG restoreItems, admins only)."""
    ids = _unique(item_ids)
    items = _locked(Item.all_objects.all(), ids)
    results, restorable = {}, []
    for item_id in ids:
        item = items.get(item_id)
        if item is None:
            results[item_id] = ItemResult(str(item_id), False, NOT_FOUND)
        elif not item.is_deleted:
            results[item_id] = ItemResult(str(item_id), False, NOT_DELETED)
        else:
            restorable.append(item_id)
            results[item_id] = ItemResult(str(item_id), True)
    _restore(Item.all_objects.filter(pk__in=restorable))
    return [results[item_id] for item_id in ids]


@transaction.atomic
def restore_all_items(*, owner) -> list[ItemResult]:
    """Restore every deleted item of ``owner`` (restoreItems with userID)."""
    ids = list(
        Item.all_objects.select_for_update(of=("self",))
        .filter(owner=owner, deleted_at__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    _restore(Item.all_objects.filter(pk__in=ids))
    return [ItemResult(str(item_id), True) for item_id in ids]


def _lock_owner(item: Item) -> None:
    """Serialize approval requests of one owner (or guest session), so the pending cap holds."""
    from apps.accounts.models import ApiSession, User

    if item.owner_id is not None:
        list(User.all_objects.select_for_update().filter(pk=item.owner_id).values_list("pk"))
    elif item.guest_session_id is not None:
        list(ApiSession.objects.select_for_update().filter(pk=item.guest_session_id).values_list("pk"))


def _pending_count(item: Item) -> int:
    pending = Item.objects.filter(public_approval_status=Item.ApprovalStatus.PENDING)
    if item.owner_id is not None:
        return pending.filter(owner_id=item.owner_id).count()
    return pending.filter(owner__isnull=True, guest_session_id=item.guest_session_id).count()


@transaction.atomic
def set_item_properties(*, item: Item, is_public: bool | None = None, approval_status: str | None = None) -> Item:
    """The owner's changes to an item (Annex: Public Items Approval Workflow).

    ``none`` <-> ``pending`` at most ``MAX_PENDING_PER_USER`` pending per owner; asking for
    ``approved`` or ``rejected`` has no effect; once approved or rejected the status is final and any
    change of it fails (409). ``isPublic`` changes only on an approved item; before that, setting it
    has no effect.
    """
    _lock_owner(item)
    item = Item.objects.select_for_update(of=("self",)).filter(pk=item.pk).first()
    if item is None:
        raise NotFound("The item was deleted meanwhile.")
    changes = {}
    if approval_status is not None:
        if item.public_approval_status in (Approval.APPROVED, Approval.REJECTED):
            raise Conflict(
                f"The item's public approval status is {item.public_approval_status}, which is final: "
                "it cannot be changed.",
                code="approval_final",
            )
        if approval_status == Approval.PENDING and item.public_approval_status == Approval.NONE:
            if _pending_count(item) >= MAX_PENDING_PER_USER:
                raise Conflict(
                    f"You already have {MAX_PENDING_PER_USER} items pending approval, the most allowed; "
                    "withdraw one or wait for a decision.",
                    code="too_many_pending",
                )
            changes["public_approval_status"] = Approval.PENDING
        elif approval_status == Approval.NONE and item.public_approval_status == Approval.PENDING:
            changes["public_approval_status"] = Approval.NONE
    if is_public is not None and item.public_approval_status == Approval.APPROVED:
        changes["is_public"] = is_public
    if changes:
        changes["updated_at"] = timezone.now()
        Item.objects.filter(pk=item.pk).update(**changes)
        for field, value in changes.items():
            setattr(item, field, value)
    return item


def _decide(item: Item, decision: str) -> str | None:
    """Why ``decision`` cannot apply to ``item``, or None when it can."""
    current = item.public_approval_status
    if item.is_deleted:
        return "The item is deleted."
    if current == decision:
        return f"The item is already {decision}."
    if decision == Approval.APPROVED and current != Approval.PENDING:
        if current == Approval.REJECTED:
            return "The item was rejected; a rejection is final."
        return "The item is not pending approval."
    if decision == Approval.REJECTED and current not in (Approval.PENDING, Approval.APPROVED):
        return "The item is not pending approval nor approved."
    return None


@transaction.atomic
def set_public_approval_status(*, item_ids: list, decision: str, moderator) -> list[ItemResult]:
    """Approve (isPublic true) or reject (isPublic false) items, also after an earlier approval.

    Approving takes a pending item; rejecting takes a pending or an approved one. Each decision is
    recorded with its moderator and time (``ApprovalDecision``).
    """
    from .models import ApprovalDecision

    if decision not in ApprovalDecision.Decision.values:
        raise InvalidInput(
            "The public approval status must be approved or rejected.", errors={("publicApprovalStatus",): []}
        )
    ids = _unique(item_ids)
    items = _locked(Item.all_objects.all(), ids)
    results = []
    now = timezone.now()
    for item_id in ids:
        item = items.get(item_id)
        if item is None:
            results.append(ItemResult(str(item_id), False, NOT_FOUND))
            continue
        refusal = _decide(item, decision)
        if refusal:
            results.append(ItemResult(str(item_id), False, refusal))
            continue
        Item.all_objects.filter(pk=item.pk).update(
            public_approval_status=decision, is_public=decision == Item.ApprovalStatus.APPROVED, updated_at=now
        )
        ApprovalDecision.objects.create(
            item=item, moderator=moderator, decision=decision, previous_status=item.public_approval_status
        )
        results.append(ItemResult(str(item_id), True))
    return results


@dataclass(frozen=True)
class ProtectedResult(ItemResult):
    """A setProtected answer: on success the message is the new state, "true" or "false"."""

    def as_dict(self) -> dict:
        return {"id": self.id, "success": self.success, "message": self.message}


@transaction.atomic
def toggle_protected(*, item_ids: list) -> list[ProtectedResult]:
    """Flip the protection of each item (AIMG setProtected) and report its new state as text."""
    ids = _unique(item_ids)
    items = _locked(Item.all_objects.all(), ids)
    results = []
    now = timezone.now()
    for item_id in ids:
        item = items.get(item_id)
        if item is None:
            results.append(ProtectedResult(str(item_id), False, NOT_FOUND))
            continue
        Item.all_objects.filter(pk=item.pk).update(is_protected=not item.is_protected, updated_at=now)
        results.append(ProtectedResult(str(item_id), True, "false" if item.is_protected else "true"))
    return results


@transaction.atomic
def set_protected(*, item_ids: list, protected: bool) -> int:
    """Protect or unprotect items (back office); returns how many changed."""
    return (
        Item.all_objects.filter(pk__in=_unique(item_ids))
        .exclude(is_protected=protected)
        .update(is_protected=protected, updated_at=timezone.now())
    )


@dataclass(frozen=True)
class MigrationResult:
    items: int
    folders: int = 0

    @property
    def message(self) -> str:
        items = f"{self.items} item{'s' if self.items != 1 else ''}"
        return f"Moved {items} and {self.folders} folder{'s' if self.folders != 1 else ''}."


@transaction.atomic
def migrate_library(*, source, destination) -> MigrationResult:
    """Move the source user's live items and live folders to the destination user in one transaction
    (AIMG migrateLibrary). Items keep their folders and tags.

    The source may be disabled; the destination may not. Deleted items and deleted folders stay with
    the source.
    """
    from apps.accounts.models import User
    from apps.folders import services as folders
    from apps.tags import services as tags

    if source.pk == destination.pk:
        raise InvalidInput(
            "The source and the destination must be different users.", errors={("destinationUserID",): []}
        )
    locked = {u.pk: u for u in User.all_objects.select_for_update().filter(pk__in=[source.pk, destination.pk])}
    target = locked.get(destination.pk)
    if target is None or not target.is_active or target.is_deleted:
        raise Conflict("The destination user is disabled; a library can only move to an active user.")
    moved_folders = folders.migrate_folders(source=source, destination=destination)
    items = Item.objects.select_for_update(of=("self",)).filter(owner_id=source.pk)
    rows = list(items.order_by("pk").values_list("pk", "tags"))
    moved = Item.objects.filter(pk__in=[pk for pk, _ in rows]).update(
        owner_id=destination.pk, updated_at=timezone.now()
    )
    tags.transfer(rows=[(source.pk, names) for _, names in rows if names], destination_owner_id=target.pk)
    return MigrationResult(items=moved, folders=moved_folders)
