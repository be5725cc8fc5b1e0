"""Folders back office: every folder (deleted ones too) with its owner, kind, item count and tags.

Folders change only through services: deleting here is the deleteSelfFolder / deletePublicFolder use
case (the items go back to the root folder), and restoring brings a deleted folder back (empty).
"""

from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from apps.items.models import Item

from . import services
from .models import Folder, FolderThumbnail

DELETE = "folders.delete_folder"
RESTORE = "folders.restore_folder"


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


def _count(**condition):
    rows = (
        Item.objects.filter(folder_id=OuterRef("pk"), **condition)
        .order_by()
        .values("folder_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


@admin.action(description="Delete the selected folders (their items go to the root folder)", permissions=["remove"])
def delete_folders(modeladmin, request, queryset):
    done = 0
    for folder in queryset.filter(deleted_at__isnull=True):
        services.delete_folder(folder=folder)
        done += 1
    modeladmin.message_user(request, f"Deleted {done} folder(s).", messages.SUCCESS)


@admin.action(description="Restore the selected deleted folders", permissions=["restore"])
def restore_folders(modeladmin, request, queryset):
    results = services.restore_folders(folder_ids=list(queryset.values_list("pk", flat=True)))
    restored = sum(1 for result in results if result.success)
    modeladmin.message_user(request, f"Restored {restored} folder(s).", messages.SUCCESS)
    for result in results:
        if not result.success:
            modeladmin.message_user(request, f"{result.id}: {result.message}", messages.WARNING)


class ThumbnailInline(admin.TabularInline):
    model = FolderThumbnail
    fields = ("position", "item")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("position",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Folder)
class FolderAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "wire_id",
        "owner",
        "is_public",
        "image_count",
        "public_item_count",
        "tag_list",
        "created_at",
        "updated_at",
        "deleted_at",
    )
    list_filter = ("is_public", DeletedFilter, ("created_at", admin.DateFieldListFilter))
    search_fields = ("=id", "name", "description", "owner__email", "owner__username")
    list_select_related = ("owner",)
    list_per_page = 50
    readonly_fields = (
        "wire_id",
        "owner",
        "is_public",
        "name",
        "description",
        "tags",
        "image_count",
        "public_item_count",
        "created_at",
        "updated_at",
        "deleted_at",
    )
    fields = readonly_fields
    inlines = (ThumbnailInline,)
    actions = (delete_folders, restore_folders)

    def get_queryset(self, request):
        # Deleted folders too: they are the ones to restore.
        return Folder.all_objects.select_related("owner").annotate(
            image_count=_count(),
            public_item_count=_count(is_public=True, public_approval_status=Item.ApprovalStatus.APPROVED),
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term.lower().startswith("p-"):  # a public folder id as the API writes it
            search_term = term[2:]
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_remove_permission(self, request):
        return request.user.has_perm(DELETE)

    def has_restore_permission(self, request):
        return request.user.has_perm(RESTORE)

    @admin.display(description="id")
    def wire_id(self, obj):
        return obj.wire_id

    @admin.display(description="items", ordering="image_count")
    def image_count(self, obj):
        return getattr(obj, "image_count", None)

    @admin.display(description="public items", ordering="public_item_count")
    def public_item_count(self, obj):
        return getattr(obj, "public_item_count", None)

    @admin.display(description="tags")
    def tag_list(self, obj):
        return ", ".join(obj.tags or [])
