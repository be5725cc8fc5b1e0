"""Items back office: every item (protect, unprotect, restore), the "Pending approval" queue and the
"Approved" list of the public-approval review, and the read-only record of approval decisions.

Items change only through services: approving and rejecting here is the same use case as the AIMG
``setPublicApprovalStatus`` endpoint, so every decision is recorded with its moderator and time.
"""

import uuid
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from . import services
from .models import ApprovalDecision, ApprovedItem, Item, PendingApprovalItem

APPROVE = "items.approve_item"
Approval = Item.ApprovalStatus
PROTECT = "items.protect_item"
RESTORE = "items.restore_item"


def _file_url(file_id) -> str:
    return f"{reverse('core:get-file')}?{urlencode({'id': file_id})}"


def _thumbnail(item: Item, *, size: int) -> str:
    file_id = item.thumbnail_id or item.file_id
    if not file_id:
        return "(no file yet)"
    return format_html(
        '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="item {}" loading="lazy" '
        'style="max-width:{}px;max-height:{}px;object-fit:contain"></a>',
        _file_url(item.file_id or file_id),
        _file_url(file_id),
        item.pk,
        size,
        size,
    )


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


class OwnerFilter(admin.SimpleListFilter):
    """Items of one owner: pick one from the owner column's link (``?owner=<id>``)."""

    title = "owner"
    parameter_name = "owner"
    owner_field = "owner_id"

    def lookups(self, request, model_admin):
        from apps.accounts.models import User

        owner_id = _uuid_or_none(self.value()) if self.value() else None
        if owner_id is None:
            return ()
        user = User.all_objects.filter(pk=owner_id).only("email").first()
        return ((self.value(), user.email if user else self.value()),)

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        owner_id = _uuid_or_none(self.value())
        return queryset.filter(**{self.owner_field: owner_id}) if owner_id else queryset.none()


def _count_of_owner(**condition):
    rows = (
        Item.all_objects.filter(owner_id=OuterRef("owner_id"), **condition)
        .order_by()
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def _with_owner_history(queryset):
    """Each row also carries its owner's record: live items, and how many were approved, rejected, pending."""
    return queryset.annotate(
        owner_items=_count_of_owner(deleted_at__isnull=True),
        owner_approved=_count_of_owner(public_approval_status=Approval.APPROVED),
        owner_rejected=_count_of_owner(public_approval_status=Approval.REJECTED),
        owner_pending=_count_of_owner(public_approval_status=Approval.PENDING, deleted_at__isnull=True),
    )


def _decide(modeladmin, request, queryset, decision: str) -> None:
    results = services.set_public_approval_status(
        item_ids=list(queryset.values_list("pk", flat=True)), decision=decision, moderator=request.user
    )
    done = [r for r in results if r.success]
    failed = [r for r in results if not r.success]
    if done:
        modeladmin.message_user(request, f"{decision.capitalize()} {len(done)} item(s).", messages.SUCCESS)
    for result in failed:
        modeladmin.message_user(request, f"{result.id}: {result.message}", messages.WARNING)


class _ItemAdminBase(admin.ModelAdmin):
    """What every item list shares: read-only rows, filters by model, date and owner."""

    list_filter = ("model", ("created_at", admin.DateFieldListFilter), OwnerFilter)
    search_fields = ("=id", "prompt", "owner__email", "owner__username")
    list_select_related = ("owner",)
    list_per_page = 50
    date_hierarchy = "created_at"
    readonly_fields = (
        "large_thumbnail",
        "owner",
        "guest_session",
        "media_kind",
        "model",
        "prompt",
        "negative_prompt",
        "public_approval_status",
        "is_public",
        "is_protected",
        "folder",
        "tags",
        "created_at",
        "reference_at",
        "deleted_at",
        "owner_history",
        "decisions",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return _with_owner_history(super().get_queryset(request))

    @admin.display(description="item")
    def large_thumbnail(self, obj):
        return _thumbnail(obj, size=320)

    @admin.display(description="prompt")
    def short_prompt(self, obj):
        return Truncator(obj.prompt).chars(300)

    @admin.display(description="owner", ordering="owner__email")
    def owner_link(self, obj):
        if obj.owner_id is None:
            return "guest"
        return format_html('<a href="?{}">{}</a>', urlencode({"owner": obj.owner_id}), obj.owner.email)

    @admin.display(description="owner's history")
    def owner_history(self, obj):
        if obj.owner_id is None:
            return "guest session"
        decisions = reverse("admin:items_approvaldecision_changelist") + "?" + urlencode({"owner": obj.owner_id})
        return format_html(
            '{} items; {} approved, {} rejected, {} pending. <a href="{}">Decisions</a>',
            getattr(obj, "owner_items", "?"),
            getattr(obj, "owner_approved", "?"),
            getattr(obj, "owner_rejected", "?"),
            getattr(obj, "owner_pending", "?"),
            decisions,
        )

    @admin.display(description="approval decisions")
    def decisions(self, obj):
        rows = obj.approval_decisions.select_related("moderator").order_by("created_at")
        lines = [
            f"{d.created_at:%Y-%m-%d %H:%M} {d.decision} by {d.moderator.email if d.moderator else 'unknown'}"
            for d in rows
        ]
        return "; ".join(lines) or "none"


@admin.action(description="Approve the selected items (make them public)", permissions=["approve"])
def approve(modeladmin, request, queryset):
    _decide(modeladmin, request, queryset, Item.ApprovalStatus.APPROVED)


@admin.action(description="Reject the selected items (make them private)", permissions=["approve"])
def reject(modeladmin, request, queryset):
    _decide(modeladmin, request, queryset, Item.ApprovalStatus.REJECTED)


@admin.action(description="Protect the selected items", permissions=["protect"])
def protect(modeladmin, request, queryset):
    count = services.set_protected(item_ids=list(queryset.values_list("pk", flat=True)), protected=True)
    modeladmin.message_user(request, f"Protected {count} item(s).", messages.SUCCESS)


@admin.action(description="Unprotect the selected items", permissions=["protect"])
def unprotect(modeladmin, request, queryset):
    count = services.set_protected(item_ids=list(queryset.values_list("pk", flat=True)), protected=False)
    modeladmin.message_user(request, f"Unprotected {count} item(s).", messages.SUCCESS)


@admin.action(description="Restore the selected deleted items", permissions=["restore"])
def restore(modeladmin, request, queryset):
    results = services.restore_items(item_ids=list(queryset.values_list("pk", flat=True)))
    restored = sum(1 for r in results if r.success)
    modeladmin.message_user(request, f"Restored {restored} item(s).", messages.SUCCESS)
    skipped = len(results) - restored
    if skipped:
        modeladmin.message_user(request, f"{skipped} item(s) were not deleted.", messages.WARNING)


class _Permissions:
    def has_approve_permission(self, request):
        return request.user.has_perm(APPROVE)

    def has_protect_permission(self, request):
        return request.user.has_perm(PROTECT)

    def has_restore_permission(self, request):
        return request.user.has_perm(RESTORE)


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return (("no", "live"), ("yes", "deleted"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


@admin.register(Item)
class ItemAdmin(_Permissions, _ItemAdminBase):
    list_display = (
        "small_thumbnail",
        "short_prompt",
        "owner_link",
        "model",
        "public_approval_status",
        "is_public",
        "is_protected",
        "deleted_at",
        "created_at",
    )
    list_filter = (*_ItemAdminBase.list_filter, "public_approval_status", "is_protected", DeletedFilter)
    actions = (protect, unprotect, restore)

    def get_queryset(self, request):
        # Deleted items too: they are the ones to restore.
        return _with_owner_history(Item.all_objects.select_related("owner"))

    @admin.display(description="item")
    def small_thumbnail(self, obj):
        return _thumbnail(obj, size=96)


@admin.register(PendingApprovalItem)
class PendingApprovalAdmin(_Permissions, _ItemAdminBase):
    """The queue: live items waiting for a decision, oldest request first."""

    list_display = ("large_thumbnail", "short_prompt", "owner_link", "owner_history", "model", "created_at")
    actions = (approve, reject)
    ordering = ("updated_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(public_approval_status=Item.ApprovalStatus.PENDING)


@admin.register(ApprovedItem)
class ApprovedAdmin(_Permissions, _ItemAdminBase):
    """Approved live items, to reject one after approval (Annex: Rejecting an Item after Approval)."""

    list_display = (
        "large_thumbnail",
        "short_prompt",
        "owner_link",
        "owner_history",
        "is_public",
        "model",
        "created_at",
    )
    actions = (reject,)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(public_approval_status=Item.ApprovalStatus.APPROVED)


class DecisionOwnerFilter(OwnerFilter):
    owner_field = "item__owner_id"


@admin.register(ApprovalDecision)
class ApprovalDecisionAdmin(admin.ModelAdmin):
    """Who decided what and when: written by the approval service only, never changed."""

    list_display = ("created_at", "decision", "previous_status", "item_link", "moderator")
    list_filter = ("decision", ("created_at", admin.DateFieldListFilter), DecisionOwnerFilter)
    list_select_related = ("moderator", "item")
    search_fields = ("=item__id", "moderator__email")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="item")
    def item_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:items_item_change", args=[obj.item_id]), obj.item_id)
