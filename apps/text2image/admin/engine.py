"""Back office of the generation engine: the model catalogue, generation jobs (retry and cancel go
through the job service), the prompt policy's term lists and rules, and sample prompts."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.utils.html import format_html
from django.utils.text import Truncator

from apps.core.errors import AtelierError

from ..models import GenerationJob, GenerationModel, PolicyRule, PolicyTermList, SamplePrompt
from ..selectors import jobs as job_selectors
from ..services import catalogue as catalogue_services
from ..services import jobs as job_services
from ..services import policy as policy_services

Status = GenerationJob.Status


# --- models ------------------------------------------------------------------------------------------


class GenerationModelForm(forms.ModelForm):
    """The catalogue's consistency checks (lists, defaults) on top of the field and constraint checks."""

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            try:
                catalogue_services.check_lists(self.instance)
            except ValidationError as exc:
                self.add_error(None, exc)


@admin.register(GenerationModel)
class GenerationModelAdmin(admin.ModelAdmin):
    form = GenerationModelForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("model_id", "name", "media_type", "provider", "enabled", "position", "min_tier", "queued")
    list_editable = ("enabled", "position")
    list_filter = ("enabled", "provider", "media_type", "registration_wall")
    search_fields = ("model_id", "name", "description")
    ordering = ("position", "model_id")
    fieldsets = (
        (None, {"fields": ("model_id", "name", "description", "media_type", "enabled", "position", "wiki_url")}),
        ("Provider", {"fields": ("provider", "provider_config", "queue_name", "timeout_seconds")}),
        ("Expected runtime", {"fields": ("runtime_base_seconds", "runtime_per_step_megapixel")}),
        (
            "Access",
            {"fields": ("min_tier", "tier0_concurrent", "tier1_concurrent", "tier2_concurrent", "registration_wall")},
        ),
        (
            "Parameters",
            {
                "fields": (
                    ("min_steps", "max_steps", "default_steps"),
                    ("allowed_widths", "allowed_heights"),
                    ("max_resolution", "default_resolution"),
                    ("allowed_samplers", "default_sampler"),
                    ("min_cfg_scale", "max_cfg_scale", "default_cfg_scale"),
                    ("supports_variations", "default_face_fix"),
                    ("frame_count", "frame_duration_ms"),
                )
            },
        ),
        ("Showcase", {"fields": ("positive_tokens", "negative_tokens", "sample_images")}),
    )

    def get_queryset(self, request):
        queued = Count("pk", filter=Q(status=Status.QUEUED))
        self._queued = dict(
            GenerationJob.objects.filter(status=Status.QUEUED)
            .values_list("model_id")
            .annotate(n=queued)
            .values_list("model_id", "n")
        )
        return super().get_queryset(request)

    @admin.display(description="queued jobs")
    def queued(self, obj):
        return getattr(self, "_queued", {}).get(obj.model_id, 0)


# --- jobs --------------------------------------------------------------------------------------------


@admin.register(GenerationJob)
class GenerationJobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "status", "model_id", "owner_email", "priority", "queued_at", "attempts", "error")
    list_filter = ("status", "kind", "priority", "model_id")
    search_fields = ("id", "owner__email", "raw_prompt", "model_id")
    list_select_related = ("owner",)
    date_hierarchy = "queued_at"
    actions = ("retry_jobs", "cancel_jobs")
    readonly_fields = [field.name for field in GenerationJob._meta.fields] + ["queue_position"]

    def has_add_permission(self, request):
        return False  # jobs are made by the generation endpoints

    def has_delete_permission(self, request, obj=None):
        return False  # a job is the record of a generation; cancel it instead

    @admin.display(description="owner")
    def owner_email(self, obj):
        return obj.owner.email if obj.owner_id else "(guest)"

    @admin.display(description="error")
    def error(self, obj):
        return Truncator(obj.error_message).chars(80)

    @admin.display(description="queue position")
    def queue_position(self, obj):
        return job_selectors.queue_position(obj) or "-"

    @admin.action(description="Retry the selected failed or cancelled jobs", permissions=["change"])
    def retry_jobs(self, request, queryset):
        done = 0
        for job in queryset.filter(status__in=[Status.FAILED, Status.CANCELLED]):
            try:
                job_services.retry_job(job=job)
                done += 1
            except AtelierError as exc:
                self.message_user(request, f"{job.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{done} job(s) queued again.", messages.SUCCESS)

    @admin.action(description="Cancel the selected queued or running jobs", permissions=["change"])
    def cancel_jobs(self, request, queryset):
        done = 0
        for job in queryset.filter(status__in=GenerationJob.ACTIVE):
            if job_services.cancel_job(job=job).status == Status.CANCELLED:
                done += 1
        self.message_user(request, f"{done} job(s) cancelled.", messages.SUCCESS)


# --- prompt policy -----------------------------------------------------------------------------------


class PolicyCacheMixin:
    """Any change of the policy takes effect at once (the compiled rules are cached)."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        policy_services.forget_compiled_rules()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        policy_services.forget_compiled_rules()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        policy_services.forget_compiled_rules()


@admin.register(PolicyTermList)
class PolicyTermListAdmin(PolicyCacheMixin, admin.ModelAdmin):
    list_display = ("name", "term_count", "used_by", "updated_at")
    search_fields = ("name", "terms", "description")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rule_count=Count("rules"))

    @admin.display(description="terms")
    def term_count(self, obj):
        return len(obj.term_list)

    @admin.display(description="rules", ordering="rule_count")
    def used_by(self, obj):
        return obj.rule_count


@admin.register(PolicyRule)
class PolicyRuleAdmin(PolicyCacheMixin, admin.ModelAdmin):
    list_display = ("name", "action", "lists", "enabled", "updated_at")
    list_filter = ("action", "enabled")
    list_editable = ("enabled",)
    filter_horizontal = ("term_lists",)
    search_fields = ("name", "message")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("term_lists")

    @admin.display(description="term lists (all must match)")
    def lists(self, obj):
        return " + ".join(term_list.name for term_list in obj.term_lists.all())

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        policy_services.forget_compiled_rules()


# --- sample prompts ----------------------------------------------------------------------------------


@admin.register(SamplePrompt)
class SamplePromptAdmin(admin.ModelAdmin):
    list_display = ("short_prompt", "enabled", "position", "user")
    list_editable = ("enabled", "position")
    list_filter = ("enabled",)
    search_fields = ("positive_prompt", "negative_prompt")
    raw_id_fields = ("user",)

    @admin.display(description="prompt")
    def short_prompt(self, obj):
        return format_html("{}", Truncator(obj.positive_prompt).chars(90))
