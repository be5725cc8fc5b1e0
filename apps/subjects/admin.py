from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from apps.core.admin import SoftDeleteAdmin
from apps.core.sartiq.media import media_url, thumbnail_url

from . import selectors, services
from .models import Subject, SubjectBaseImage, SubjectBaseImagesUploadTask, SubjectMeasurements


def _preview(media, size: int, alt: str = ""):
    if media is None:
        return "—"
    return format_html(
        '<a href="{}" target="_blank" rel="noopener">'
        '<img src="{}" alt="{}" style="max-width:{}px;max-height:{}px"></a>',
        media_url(media),
        thumbnail_url(media) or media_url(media),
        alt or media.alt_text or "",
        size,
        size,
    )


class MeasurementsInline(admin.StackedInline):
    model = SubjectMeasurements
    extra = 0
    max_num = 1
    can_delete = True


class BaseImageInline(admin.TabularInline):
    model = SubjectBaseImage
    extra = 0
    fields = ("shot_type", "media", "preview", "created_at")
    readonly_fields = ("shot_type", "media", "preview", "created_at")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="image")
    def preview(self, obj):
        return _preview(obj.media, 96, alt=obj.shot_type.name)


@admin.register(Subject)
class SubjectAdmin(SoftDeleteAdmin):
    """Subjects arrive through the API. Deleting one here is the API's soft delete; its LoRA file,
    upload archives and images go when it is purged (the purge action now, or ``purge_deleted``
    after the retention)."""

    list_display = (
        "cover_thumbnail",
        "name",
        "surname",
        "slug",
        "age_class",
        "gender",
        "subject_type",
        "owner",
        "organization",
        "public",
        "enabled",
        "ready",
        "lora_status",
        "created_at",
        "deleted_at",
    )
    list_display_links = ("cover_thumbnail", "name")
    list_filter = (
        "age_class",
        "gender",
        "subject_type",
        "body_type",
        "public",
        "enabled",
        "ready",
        "lora_status",
        ("organization", admin.RelatedOnlyFieldListFilter),
        "created_at",
    )
    search_fields = ("name", "surname", "slug", "description", "ethnicity", "owner__email", "organization__name")
    list_select_related = ("owner", "organization", "cover_image")
    date_hierarchy = "created_at"
    raw_id_fields = ("owner", "organization", "cover_image", "portrait_image")
    inlines = [MeasurementsInline, BaseImageInline]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "name",
                    "surname",
                    "slug",
                    "description",
                    "age_class",
                    "gender",
                    "subject_type",
                    "body_type",
                    "ethnicity",
                    "positive_prompt",
                    "negative_prompt",
                )
            },
        ),
        ("Ownership", {"fields": ("owner", "organization", "public", "enabled", "ready", "held_back", "copied_from")}),
        ("Images", {"fields": ("cover_image", "cover_preview", "portrait_image", "image_previews")}),
        ("LoRA", {"fields": ("lora_status", "lora_trigger", "local_model_path", "lora_file", "lora_file_size")}),
        ("Dates", {"fields": ("created_at", "updated_at", "deleted_at")}),
    )
    readonly_fields = (
        "id",
        "slug",
        "ready",
        "copied_from",
        "cover_preview",
        "image_previews",
        "lora_file",
        "lora_file_size",
        "created_at",
        "updated_at",
        "deleted_at",
    )
    actions = ["restore_selected", "purge_selected", "copy_selected", "refresh_ready"]

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("image_links__media")

    def save_model(self, request, obj, form, change):
        if obj.held_back:
            obj.ready = False
        super().save_model(request, obj, form, change)
        services.refresh_readiness(subject_ids=[obj.pk])

    @admin.display(description="cover")
    def cover_thumbnail(self, obj):
        return _preview(obj.cover_image, 64, alt=obj.name)

    @admin.display(description="cover image preview")
    def cover_preview(self, obj):
        return _preview(obj.cover_image, 320, alt=obj.name)

    @admin.display(description="data and portfolio images")
    def image_previews(self, obj):
        images = [*selectors.data_images(obj), *selectors.portfolio_images(obj)]
        if not images:
            return "—"
        return format_html_join(" ", "{}", ((_preview(media, 120),) for media in images))

    @admin.action(description="Restore selected (undo delete)", permissions=["delete"])
    def restore_selected(self, request, queryset):
        restored = 0
        for subject in queryset.filter(deleted_at__isnull=False):
            services.restore_subject(subject=subject)
            restored += 1
        self.message_user(request, f"Restored {restored} subject(s).", messages.SUCCESS)

    @admin.action(
        description="Purge selected deleted subjects now, with their files (cannot be undone)", permissions=["delete"]
    )
    def purge_selected(self, request, queryset):
        purged = 0
        for subject in queryset.filter(deleted_at__isnull=False):
            services.purge_subject(subject=subject)
            purged += 1
        message = f"Purged {purged} deleted subject(s) and their files; live subjects are never purged."
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description="Copy selected subjects (to me, private)", permissions=["change"])
    def copy_selected(self, request, queryset):
        copied = 0
        for subject in queryset.filter(deleted_at__isnull=True):
            services.copy_subject(user=request.user, subject=subject)
            copied += 1
        self.message_user(request, f"Copied {copied} subject(s).", messages.SUCCESS)

    @admin.action(description="Recompute 'ready' of selected subjects", permissions=["change"])
    def refresh_ready(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        services.refresh_readiness(subject_ids=ids)
        self.message_user(request, f"Recomputed 'ready' of {len(ids)} subject(s).", messages.SUCCESS)

    def delete_model(self, request, obj):
        if obj.deleted_at is None:
            services.delete_subject(subject=obj)

    def delete_queryset(self, request, queryset):
        for subject in queryset.filter(deleted_at__isnull=True):
            services.delete_subject(subject=subject)


@admin.register(SubjectBaseImagesUploadTask)
class UploadTaskAdmin(admin.ModelAdmin):
    """ZIP uploads and what became of them (read-only)."""

    list_display = (
        "id",
        "subject",
        "owner",
        "status",
        "progress",
        "images_processed",
        "images_skipped",
        "portfolio_images_processed",
        "created_at",
        "completed_at",
    )
    list_filter = ("status", "created_subject", "created_at")
    search_fields = ("id", "subject__name", "subject__slug", "owner__email")
    list_select_related = ("subject", "owner")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in SubjectBaseImagesUploadTask._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
