from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from apps.core.admin import SoftDeleteAdmin
from apps.core.sartiq.media import media_url, thumbnail_url

from . import selectors, services
from .models import Style


def _preview(media, size: int):
    if media is None:
        return "—"
    return format_html(
        '<a href="{}" target="_blank" rel="noopener">'
        '<img src="{}" alt="{}" style="max-width:{}px;max-height:{}px"></a>',
        media_url(media),
        thumbnail_url(media) or media_url(media),
        media.alt_text or "",
        size,
        size,
    )


@admin.register(Style)
class StyleAdmin(SoftDeleteAdmin):
    """Styles arrive through the API. Deleting one here is the API's soft delete; its LoRA file and
    images go when it is purged (the purge action now, or ``purge_deleted`` after the retention)."""

    list_display = (
        "cover_thumbnail",
        "name",
        "slug",
        "style_category",
        "owner",
        "organization",
        "public",
        "enabled",
        "archived",
        "demo",
        "lora_status",
        "created_at",
        "deleted_at",
    )
    list_display_links = ("cover_thumbnail", "name")
    list_filter = (
        "style_category",
        "public",
        "enabled",
        "archived",
        "demo",
        "lora_status",
        ("organization", admin.RelatedOnlyFieldListFilter),
        "created_at",
    )
    search_fields = ("name", "slug", "brand", "description", "prompt_keywords", "owner__email", "organization__name")
    list_select_related = ("owner", "organization", "cover_image")
    date_hierarchy = "created_at"
    raw_id_fields = ("owner", "organization", "cover_image")
    fieldsets = (
        (None, {"fields": ("id", "name", "slug", "style_category", "description", "brand", "prompt_keywords", "tags")}),
        ("Ownership", {"fields": ("owner", "organization", "public", "enabled", "archived", "demo")}),
        ("Images", {"fields": ("cover_image", "cover_preview", "data_image_previews")}),
        (
            "LoRA",
            {
                "fields": (
                    "lora_status",
                    "lora_trigger",
                    "default_lora_weight",
                    "local_model_path",
                    "lora_file",
                    "lora_file_size",
                    "current_training_id",
                    "training_progress",
                    "training_error",
                )
            },
        ),
        ("Dates", {"fields": ("created_at", "updated_at", "deleted_at")}),
    )
    readonly_fields = (
        "id",
        "slug",
        "cover_preview",
        "data_image_previews",
        "lora_file",
        "lora_file_size",
        "created_at",
        "updated_at",
        "deleted_at",
    )
    actions = ["restore_selected", "purge_selected"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="cover")
    def cover_thumbnail(self, obj):
        return _preview(obj.cover_image, 64)

    @admin.display(description="cover image preview")
    def cover_preview(self, obj):
        return _preview(obj.cover_image, 320)

    @admin.display(description="data images")
    def data_image_previews(self, obj):
        images = selectors.data_images(obj)
        if not images:
            return "—"
        return format_html_join(" ", "{}", ((_preview(media, 160),) for media in images))

    @admin.action(description="Restore selected (undo delete)", permissions=["delete"])
    def restore_selected(self, request, queryset):
        restored = 0
        for style in queryset.filter(deleted_at__isnull=False):
            services.restore_style(style=style)
            restored += 1
        self.message_user(request, f"Restored {restored} style(s).", messages.SUCCESS)

    @admin.action(
        description="Purge selected deleted styles now, with their files (cannot be undone)", permissions=["delete"]
    )
    def purge_selected(self, request, queryset):
        purged = 0
        for style in queryset.filter(deleted_at__isnull=False):
            services.purge_style(style=style)
            purged += 1
        message = f"Purged {purged} deleted style(s) and their files; live styles are never purged."
        self.message_user(request, message, messages.SUCCESS)

    def delete_model(self, request, obj):
        if obj.deleted_at is None:
            services.delete_style(style=obj)

    def delete_queryset(self, request, queryset):
        for style in queryset.filter(deleted_at__isnull=True):
            services.delete_style(style=style)
