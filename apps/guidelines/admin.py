"""Back office of shot types, presets (background, resolution, pose), set designs and shooting
guidelines: filters, search, image previews, restore and purge (purge deletes soft-deleted rows and
the images only they used)."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from apps.core.admin import DeletedFilter
from apps.core.sartiq.media import media_url, thumbnail_url

from . import selectors, services
from .models import (
    BackgroundPreset,
    BackgroundPresetFraming,
    GuidelinePosePreset,
    GuidelineShotType,
    GuidelineSubject,
    PosePreset,
    ResolutionPreset,
    SetBaseImage,
    SetDesign,
    SetReferenceImage,
    SetSubjectPortrait,
    ShootingGuidelines,
    ShotType,
    ShotTypeRule,
)

PREVIEW = (
    '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="{}" style="max-height:{}px;max-width:{}px"></a>'
)


def preview(resource, *, size: int = 64, alt: str = "preview"):
    """A thumbnail linking to the full image, or a dash."""
    if resource is None:
        return "-"
    return format_html(PREVIEW, media_url(resource), thumbnail_url(resource) or media_url(resource), alt, size, size)


class SartiqResourceAdmin(admin.ModelAdmin):
    """Shows deleted rows too; restore and purge actions go through the app's services."""

    actions = ["restore_selected", "purge_selected"]
    list_select_related = ("owner", "organization")
    raw_id_fields = ("owner", "organization")
    readonly_fields = ("id", "created_at", "updated_at", "deleted_at")

    def get_queryset(self, request):
        return self.model.all_objects.get_queryset()

    def get_list_filter(self, request):
        return (DeletedFilter, *super().get_list_filter(request))

    @admin.action(description="Restore selected (undo delete)", permissions=["change"])
    def restore_selected(self, request, queryset):
        restored, refused = 0, []
        for row in queryset.filter(deleted_at__isnull=False):
            try:
                self.restore_row(row)
            except Exception as exc:  # a Conflict names the reason
                refused.append(f"{row}: {getattr(exc, 'message', exc)}")
            else:
                restored += 1
        self.message_user(request, f"Restored {restored} row(s).", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.ERROR)

    @admin.action(
        description="Purge selected deleted rows now, with their images (cannot be undone)", permissions=["delete"]
    )
    def purge_selected(self, request, queryset):
        report = services.purge_now(queryset)
        self.message_user(
            request, f"Purged {len(report.ids)} deleted row(s); live rows are never purged.", messages.SUCCESS
        )
        for pk, reason in report.failed.items():
            self.message_user(request, f"{pk} was not purged: {reason}", messages.ERROR)

    def restore_row(self, row):
        row.restore()

    def delete_model(self, request, obj):
        obj.delete()  # soft delete, like the API

    def delete_queryset(self, request, queryset):
        queryset.delete()  # soft delete


@admin.register(ShotType)
class ShotTypeAdmin(SartiqResourceAdmin):
    list_display = (
        "name",
        "reference_preview",
        "framing",
        "view_angle",
        "default_shot_type",
        "core_focus",
        "public",
        "owner",
        "organization",
        "created_at",
        "deleted_at",
    )
    list_filter = ("framing", "view_angle", "default_shot_type", "public", "core_focus", "created_at")
    search_fields = ("name", "prompt", "shot_type_prompt_instruction", "owner__email", "organization__name")
    list_select_related = ("owner", "organization", "reference_image", "shot_type_ref_image")
    raw_id_fields = ("owner", "organization", "reference_image", "shot_type_ref_image")
    readonly_fields = (*SartiqResourceAdmin.readonly_fields, "reference_preview", "ref_image_preview")
    date_hierarchy = "created_at"

    @admin.display(description="reference image")
    def reference_preview(self, obj):
        return preview(obj.reference_image, alt=obj.name)

    @admin.display(description="shot type reference image")
    def ref_image_preview(self, obj):
        return preview(obj.shot_type_ref_image, size=128, alt=obj.name)

    def restore_row(self, row):
        services.restore_shot_type(shot_type=row)


class BackgroundPresetFramingInline(admin.TabularInline):
    model = BackgroundPresetFraming
    extra = 0
    fields = ("position", "framing", "image", "image_preview")
    readonly_fields = ("image_preview",)
    raw_id_fields = ("image",)

    @admin.display(description="preview")
    def image_preview(self, obj):
        return preview(obj.image)


@admin.register(BackgroundPreset)
class BackgroundPresetAdmin(SartiqResourceAdmin):
    list_display = ("name", "framing_previews", "strategy", "owner", "organization", "created_at", "deleted_at")
    list_filter = ("strategy", "created_at")
    search_fields = ("name", "owner__email", "organization__name")
    inlines = [BackgroundPresetFramingInline]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("framings__image")

    @admin.display(description="framings")
    def framing_previews(self, obj):
        framings = list(obj.framings.all())
        if not framings:
            return "-"
        return format_html_join(
            " ", "{}", ((preview(row.image, size=40, alt=row.framing or "fallback"),) for row in framings)
        )

    def restore_row(self, row):
        services.restore_background_preset(preset=row)


@admin.register(ResolutionPreset)
class ResolutionPresetAdmin(SartiqResourceAdmin):
    list_display = ("name", "width", "height", "owner", "organization", "created_at", "deleted_at")
    list_filter = ("created_at",)
    search_fields = ("name", "owner__email", "organization__name")
    date_hierarchy = "created_at"

    def restore_row(self, row):
        services.restore_resolution_preset(preset=row)


# --- pose presets, set designs, shooting guidelines ----------------------------------------------


@admin.register(PosePreset)
class PosePresetAdmin(SartiqResourceAdmin):
    """Pose presets have no endpoints: they are made here and named by guidelines (pose_preset_ids)."""

    list_display = ("name", "pose_preview", "shot_type", "owner", "organization", "created_at", "deleted_at")
    list_filter = ("created_at",)
    search_fields = ("name", "prompt", "shot_type__name", "owner__email", "organization__name")
    list_select_related = ("owner", "organization", "shot_type", "pose_image")
    raw_id_fields = ("owner", "organization", "shot_type", "pose_image")
    readonly_fields = (*SartiqResourceAdmin.readonly_fields, "pose_preview")
    date_hierarchy = "created_at"

    @admin.display(description="pose image")
    def pose_preview(self, obj):
        return preview(obj.pose_image, alt=obj.name)


class SetBaseImageInline(admin.TabularInline):
    model = SetBaseImage
    extra = 0
    fields = ("subject", "shot_type", "variant_index", "image", "image_preview")
    readonly_fields = ("image_preview",)
    raw_id_fields = ("subject", "shot_type", "image")

    @admin.display(description="preview")
    def image_preview(self, obj):
        return preview(obj.image)


class SetReferenceImageInline(admin.TabularInline):
    model = SetReferenceImage
    extra = 0
    fields = ("shot_type", "label", "image", "image_preview")
    readonly_fields = ("image_preview",)
    raw_id_fields = ("shot_type", "image")

    @admin.display(description="preview")
    def image_preview(self, obj):
        return preview(obj.image)


class SetSubjectPortraitInline(admin.TabularInline):
    model = SetSubjectPortrait
    extra = 0
    fields = ("subject", "image", "image_preview")
    readonly_fields = ("image_preview",)
    raw_id_fields = ("subject", "image")

    @admin.display(description="preview")
    def image_preview(self, obj):
        return preview(obj.image)


@admin.register(SetDesign)
class SetDesignAdmin(SartiqResourceAdmin):
    """Set designs have no endpoints: they are made here and named by guidelines (set_design_id)."""

    list_display = ("name", "background_preset", "owner", "organization", "created_at", "deleted_at")
    list_filter = ("created_at",)
    search_fields = ("name", "description", "owner__email", "organization__name")
    list_select_related = ("owner", "organization", "background_preset")
    raw_id_fields = ("owner", "organization", "background_preset")
    inlines = [SetBaseImageInline, SetReferenceImageInline, SetSubjectPortraitInline]
    date_hierarchy = "created_at"


class GuidelineShotTypeInline(admin.TabularInline):
    model = GuidelineShotType
    extra = 0
    raw_id_fields = ("shot_type",)


class GuidelineSubjectInline(admin.TabularInline):
    model = GuidelineSubject
    extra = 0
    raw_id_fields = ("subject",)


class GuidelinePosePresetInline(admin.TabularInline):
    model = GuidelinePosePreset
    extra = 0
    raw_id_fields = ("pose_preset",)


class ShotTypeRuleInline(admin.TabularInline):
    model = ShotTypeRule
    extra = 0
    fields = ("group", "rule_kind", "rule_value", "shot_type", "position")
    raw_id_fields = ("shot_type",)


@admin.register(ShootingGuidelines)
class ShootingGuidelinesAdmin(SartiqResourceAdmin):
    """Guidelines arrive through the API; their lists and rules can be read and corrected here.
    Saving recomputes whether their subjects are ready."""

    list_display = ("name", "owner", "organization", "auto_start_look_generations", "created_at", "deleted_at")
    list_filter = ("auto_start_look_generations", "allow_back_shots_without_back_image", "created_at")
    search_fields = ("name", "owner__email", "organization__name")
    raw_id_fields = (
        "owner",
        "organization",
        "resolution_preset",
        "background_preset",
        "set_design",
        "generative_workflow_template",
    )
    inlines = [GuidelineShotTypeInline, GuidelineSubjectInline, GuidelinePosePresetInline, ShotTypeRuleInline]
    date_hierarchy = "created_at"

    def save_related(self, request, form, formsets, change):
        before = selectors.guideline_subject_ids(form.instance)
        super().save_related(request, form, formsets, change)
        services.refresh_guideline_subjects(before | selectors.guideline_subject_ids(form.instance))

    def restore_row(self, row):
        services.restore_guidelines(guideline=row)
