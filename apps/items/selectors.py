"""Reads of the items app: permission-scoped item querysets, library lists, counts."""

from django.apps import apps
from django.conf import settings
from django.db.models import Q, QuerySet

from apps.accounts.profile import ItemCounts

from .models import Item, Reaction

ADMIN_VIEW_PERMISSION = "items.view_item"


def _signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated)


def is_items_admin(user) -> bool:
    """Whoever may see every item and its approval state (the ``items.view_item`` permission)."""
    return bool(_signed_in(user) and user.is_active and user.has_perm(ADMIN_VIEW_PERMISSION))


def public_folder_ids(folder_ids=None) -> frozenset:
    """Which of ``folder_ids`` are live public folders (all of them when None: avoid on big sites)."""
    from apps.folders import selectors as folders

    return folders.public_folder_ids(folder_ids)


def folder_kinds(folder_ids) -> dict:
    """``{folder_id: is_public}`` of the live folders among ``folder_ids`` (no query when none)."""
    from apps.folders import selectors as folders

    return folders.folder_kinds(folder_ids)


def folder_wire_id(folder_id, *, is_public: bool) -> str:
    """A folder id as the AIMG API writes it: ``p-<uuid>`` for a public folder."""
    from apps.folders.models import wire_id

    return wire_id(folder_id, is_public=is_public)


def publicly_visible_q(*, prefix: str = "") -> Q:
    """isPublic, approved, and placed in a live public folder (Annex: Public Items Approval Workflow).
    ``prefix`` applies the condition through a relation (``"item__"``)."""
    return Q(
        **{
            f"{prefix}is_public": True,
            f"{prefix}public_approval_status": Item.ApprovalStatus.APPROVED,
            f"{prefix}folder__is_public": True,
            f"{prefix}folder__deleted_at__isnull": True,
        }
    )


def owned_q(user, *, session=None) -> Q | None:
    """Items of a signed-in user, or of a guest session; None when the caller owns nothing.

    Workspace images (Neuroflash) belong to their workspace, not to the uploader's AIMG library.
    """
    if _signed_in(user):
        return Q(owner=user, workspace__isnull=True)
    if session is not None and getattr(session, "pk", None) is not None:
        return Q(guest_session=session, owner__isnull=True, workspace__isnull=True)
    return None


def owned_items(user, *, session=None) -> QuerySet[Item]:
    """Live items of the user (or of the guest session when nobody is signed in)."""
    condition = owned_q(user, session=session)
    return Item.objects.filter(condition) if condition is not None else Item.objects.none()


def publicly_visible_items() -> QuerySet[Item]:
    return Item.objects.filter(publicly_visible_q())


def visible_items(user, *, session=None) -> QuerySet[Item]:
    """Live items the caller may read: everything for admins, else own items and publicly visible ones."""
    if is_items_admin(user):
        return Item.objects.all()
    condition = publicly_visible_q()
    mine = owned_q(user, session=session)
    if mine is not None:
        condition |= mine
    return Item.objects.filter(condition)


def is_owner(item: Item, user, *, session=None) -> bool:
    if _signed_in(user):
        return item.owner_id == user.pk
    return bool(session is not None and item.owner_id is None and item.guest_session_id == session.pk)


def reactions_of(user, item_ids) -> dict:
    """``{item_id: "like" | "dislike"}`` of the user for the given items (one query)."""
    if not _signed_in(user):
        return {}
    ids = list(item_ids)
    if not ids:
        return {}
    return dict(Reaction.objects.filter(user=user, item_id__in=ids).values_list("item_id", "kind"))


def library_limit() -> int:
    """FREE_TIER_LIBRARY_LIMIT: how many of their newest items free-tier users see (0: no limit)."""
    return max(int(getattr(settings, "FREE_TIER_LIBRARY_LIMIT", 0) or 0), 0)


def library_limit_for(user) -> int:
    """The library limit that applies to this user (0: none): only free-tier users have one."""
    limit = library_limit()
    if not limit or not _signed_in(user):
        return limit
    if apps.is_installed("apps.billing"):
        from apps.billing.selectors import effective_tier

        if effective_tier(user) > 0:
            return 0
    return limit


def trim_to_newest(queryset: QuerySet[Item], limit: int) -> tuple[QuerySet[Item], bool]:
    """The ``limit`` newest items of ``queryset`` (by reference timestamp, then id) and whether any
    item was left out. One query: the key of the item just past the limit."""
    if not limit:
        return queryset, False
    cutoff = queryset.order_by("-reference_at", "-id").values_list("reference_at", "id")[limit : limit + 1].first()
    if cutoff is None:
        return queryset, False
    at, pk = cutoff
    return queryset.filter(Q(reference_at__gt=at) | Q(reference_at=at, id__gt=pk)), True


def last_completed_item(user, *, session=None, media_kind: str | None = None) -> Item | None:
    items = owned_items(user, session=session).filter(status=Item.Status.COMPLETED, completed_at__isnull=False)
    if media_kind:
        items = items.filter(media_kind=media_kind)
    return items.select_related("file", "owner").order_by("-completed_at", "-id").first()


def item_counts(user) -> ItemCounts:
    """The item counts of a user's profile: ``itemCount`` (live items of their library),
    ``rootFolderItemCount`` (those outside any folder) and ``publicItemCount`` (those in their public
    folders). Flagged and high-heat counts belong to the reports app and stay 0 until it exists.
    One query, exact (counted, never stored)."""
    if not _signed_in(user):
        return ItemCounts()
    from django.db.models import Count

    counts = Item.objects.filter(owner=user, workspace__isnull=True).aggregate(
        total=Count("pk"),
        root=Count("pk", filter=Q(folder__isnull=True)),
        public=Count("pk", filter=Q(folder__is_public=True)),
    )
    return ItemCounts(
        item_count=counts["total"], root_folder_item_count=counts["root"], public_item_count=counts["public"]
    )
