from django.contrib import admin, messages
from django.utils.html import format_html

from .models import AffiliateAd, Domain, DomainHost, FileObject, MediaResource, SqlQueryAudit
from .sartiq.media import media_url, thumbnail_url
from .services import files, retention


class SoftDeleteAdmin(admin.ModelAdmin):
    """Back office for soft-deletable rows: shows deleted ones too, with a restore action."""

    actions = ["restore_selected"]

    def get_queryset(self, request):
        return self.model.all_objects.get_queryset()

    def get_list_filter(self, request):
        return (DeletedFilter, *super().get_list_filter(request))

    @admin.action(description="Restore selected (undo delete)")
    def restore_selected(self, request, queryset):
        restored = queryset.restore()
        self.message_user(request, f"Restored {restored} row(s).", messages.SUCCESS)


class DeletedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("deleted", "Deleted")]

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "deleted":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


class DomainHostInline(admin.TabularInline):
    model = DomainHost
    extra = 1


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "environment", "is_default", "is_active", "hostnames")
    list_filter = ("environment", "is_default", "is_active")
    search_fields = ("name", "code", "hosts__hostname")
    inlines = [DomainHostInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("hosts")

    @admin.display(description="hosts")
    def hostnames(self, obj):
        return ", ".join(host.hostname for host in obj.hosts.all())


@admin.register(AffiliateAd)
class AffiliateAdAdmin(admin.ModelAdmin):
    list_display = ("text", "link", "domain", "weight", "is_active", "updated_at")
    list_filter = ("domain", "is_active")
    list_editable = ("weight", "is_active")
    search_fields = ("text", "link")
    list_select_related = ("domain",)


@admin.register(SqlQueryAudit)
class SqlQueryAuditAdmin(admin.ModelAdmin):
    """The pgQuery audit trail: read-only, nobody edits or deletes it from here."""

    list_display = ("created_at", "user", "admin_key_prefix", "command", "row_count", "succeeded", "duration_ms")
    list_filter = ("succeeded", "command")
    search_fields = ("query_text", "user__email", "admin_key_prefix", "request_id")
    list_select_related = ("user",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FileObject)
class FileObjectAdmin(SoftDeleteAdmin):
    """Files of the AIMG file server. They arrive through ``uploadFile``; removing one here is the
    same as ``removeFile`` (restorable until ``purge_deleted``)."""

    list_display = ("id", "file_name", "content_type", "size", "owner", "created_at", "deleted_at")
    list_filter = ("content_type", "checksum_algorithm", "created_at")
    search_fields = ("id", "file_name", "checksum", "owner__email")
    list_select_related = ("owner",)
    date_hierarchy = "created_at"
    fields = (
        "id",
        "file_name",
        "content_type",
        "size",
        "width",
        "height",
        "checksum_algorithm",
        "checksum",
        "storage_name",
        "custom_metadata",
        "owner",
        "created_at",
        "updated_at",
        "deleted_at",
    )
    readonly_fields = tuple(name for name in fields if name != "custom_metadata")
    actions = ["restore_selected", "purge_selected"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Restore selected (undo delete)", permissions=["delete"])
    def restore_selected(self, request, queryset):
        restored = 0
        for file in queryset.filter(deleted_at__isnull=False):
            files.restore_file(file=file)
            restored += 1
        self.message_user(request, f"Restored {restored} file(s).", messages.SUCCESS)

    @admin.action(description="Purge selected removed files now (cannot be undone)", permissions=["delete"])
    def purge_selected(self, request, queryset):
        purged = 0
        for file in queryset.filter(deleted_at__isnull=False):
            files.purge(file=file)
            purged += 1
        self.message_user(request, f"Purged {purged} removed file(s); live files are never purged.", messages.SUCCESS)

    def delete_model(self, request, obj):
        if obj.deleted_at is None:
            files.remove_file(file_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for file in queryset.filter(deleted_at__isnull=True):
            files.remove_file(file_id=file.pk)


@admin.register(MediaResource)
class MediaResourceAdmin(SoftDeleteAdmin):
    """Images of the Sartiq catalogue. They arrive through the API's image fields; deleting one here
    soft-deletes it (its URL stops working), purging deletes its files for good."""

    list_display = (
        "id",
        "preview",
        "width",
        "height",
        "extension",
        "file_size",
        "source",
        "owner",
        "protected",
        "created_at",
        "deleted_at",
    )
    list_filter = ("resource_type", "extension", "source", "protected", "orientation", "created_at")
    search_fields = ("id", "content_hash", "alt_text", "caption", "source_url", "owner__email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner", "organization")
    date_hierarchy = "created_at"
    readonly_fields = (
        *(
            field.name
            for field in MediaResource._meta.fields
            if field.name not in ("alt_text", "caption", "protected", "owner", "organization")
        ),
        "preview",
    )
    actions = ["restore_selected", "purge_selected"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="preview")
    def preview(self, obj):
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">'
            '<img src="{}" alt="" style="max-height:64px;max-width:64px"></a>',
            media_url(obj),
            thumbnail_url(obj) or media_url(obj),
        )

    @admin.action(
        description="Purge selected deleted media now, with their files (cannot be undone)", permissions=["delete"]
    )
    def purge_selected(self, request, queryset):
        report = retention.purge_rows(
            MediaResource, queryset.filter(deleted_at__isnull=False).values_list("pk", flat=True)
        )
        self.message_user(request, f"Purged {len(report.ids)} deleted media resource(s).", messages.SUCCESS)
        for pk, reason in report.failed.items():
            self.message_user(request, f"{pk} was not purged: {reason}", messages.ERROR)
