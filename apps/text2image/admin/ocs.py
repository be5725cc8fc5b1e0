"""Back office: the OCS text2image and textprocessing tasks (read-only; deleting goes through the
same services as the API and the clean-up)."""

from django.contrib import admin, messages
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from ..models import OcsTaskStatus, Text2ImageTask, TextProcessingTask
from ..selectors.ocs import text2image_status, user_id_of
from ..services import ocs as services


class OcsTaskAdmin(admin.ModelAdmin):
    list_select_related = ("owner",)
    search_fields = ("id", "app_id", "identifier", "owner__email", "owner__username", "input")
    date_hierarchy = "created_at"
    actions = ["delete_tasks"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deletion goes through the service (delete_tasks)
        return actions

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="userId")
    def user_id(self, obj):
        return user_id_of(obj) or "(anonymous)"


@admin.register(Text2ImageTask)
class Text2ImageTaskAdmin(OcsTaskAdmin):
    list_display = (
        "id",
        "status_name",
        "user_id",
        "app_id",
        "identifier",
        "number_of_images",
        "job_link",
        "updated_at",
    )
    list_select_related = ("owner", "job")
    list_filter = ("app_id", "job__status")
    readonly_fields = (
        "id",
        "owner",
        "guest_session",
        "app_id",
        "identifier",
        "input",
        "number_of_images",
        "job_link",
        "completion_expected_at",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields

    @admin.display(description="status")
    def status_name(self, obj):
        return OcsTaskStatus(text2image_status(obj)).label

    @admin.display(description="generation job")
    def job_link(self, obj):
        if obj.job_id is None:
            return "-"
        try:
            url = reverse("admin:text2image_generationjob_change", args=[obj.job_id])
        except NoReverseMatch:  # jobs not in the back office
            return str(obj.job_id)
        return format_html('<a href="{}">{}</a>', url, obj.job_id)

    def delete_model(self, request, obj):
        services.delete_image_task(task=obj)

    @admin.action(description="Delete selected tasks (their images leave the library)", permissions=["delete"])
    def delete_tasks(self, request, queryset):
        count = 0
        for task in queryset.select_related("job"):
            services.delete_image_task(task=task)
            count += 1
        self.message_user(request, f"Deleted {count} task(s).", messages.SUCCESS)


@admin.register(TextProcessingTask)
class TextProcessingTaskAdmin(OcsTaskAdmin):
    list_display = ("id", "task_type", "status", "user_id", "app_id", "identifier", "provider", "updated_at")
    list_filter = ("status", "task_type", "provider", "app_id")
    readonly_fields = (
        "id",
        "owner",
        "guest_session",
        "task_type",
        "status",
        "app_id",
        "identifier",
        "input",
        "output",
        "provider",
        "error_message",
        "completion_expected_at",
        "started_at",
        "finished_at",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields

    def delete_model(self, request, obj):
        services.delete_text_task(task=obj)

    @admin.action(description="Delete selected tasks", permissions=["delete"])
    def delete_tasks(self, request, queryset):
        count = 0
        for task in queryset:
            services.delete_text_task(task=task)
            count += 1
        self.message_user(request, f"Deleted {count} task(s).", messages.SUCCESS)
