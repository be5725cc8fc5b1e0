"""Back office: API2 workflow templates (parameters and files inline) and file groups.

Saving a template re-validates it (``services.workflows.validate_template``): its validation status
says whether it can run and why not. Deleting soft-deletes (restore is an action); JSON import and
export go through the same services as the management commands.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join

from apps.core.errors import AtelierError

from ..management.commands.import_workflow_templates import describe
from ..models import (
    WorkflowFileGroup,
    WorkflowFileGroupFile,
    WorkflowTemplate,
    WorkflowTemplateFile,
    WorkflowTemplateParameter,
)
from ..selectors import workflows as selectors
from ..services import workflows as services

MAX_IMPORT_BYTES = 5 * 1024 * 1024


class ParameterInline(admin.StackedInline):
    model = WorkflowTemplateParameter
    extra = 0
    ordering = ("position", "name")
    fieldsets = (
        (None, {"fields": (("position", "name", "data_type"), ("replace_from_string", "default_value"))}),
        (
            "Limits and choices",
            {"fields": (("min", "max", "increment"), "dropdown_items", ("file_group", "file_group_destination"))},
        ),
        (
            "Display",
            {
                "classes": ("collapse",),
                "fields": (
                    ("is_optional", "is_hidden", "is_always_visible"),
                    ("type", "ui_type", "option_name"),
                    "description",
                    "user_value",
                    "extra_data",
                ),
            },
        ),
    )


class TemplateFileInline(admin.TabularInline):
    model = WorkflowTemplateFile
    extra = 0
    fields = ("name", "file_names", "support_file_type")


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


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A JSON file as export_workflow_templates writes it.")


@admin.register(WorkflowTemplate)
class WorkflowTemplateAdmin(admin.ModelAdmin):
    change_list_template = "admin/text2image/workflowtemplate/change_list.html"
    list_display = (
        "name",
        "model_id",
        "deployment_list",
        "validation_status",
        "organization",
        "updated_at",
        "deleted_at",
    )
    list_filter = ("validation_status", "deployed_a2stage", "deployed_a2prod", DeletedFilter)
    search_fields = ("name", "model_id", "description")
    list_select_related = ("organization",)
    readonly_fields = ("validation_status", "problems", "deleted_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "description", "model_id", "organization")}),
        ("Deployment", {"fields": (("deployed_a2stage", "deployed_a2prod"),)}),
        ("Validation", {"fields": ("validation_status", "problems")}),
        ("ComfyUI workflow", {"fields": ("workflow",)}),
        ("Record", {"classes": ("collapse",), "fields": ("created_at", "updated_at", "deleted_at")}),
    )
    inlines = (ParameterInline, TemplateFileInline)
    actions = ("validate", "export_json", "restore")

    def get_queryset(self, request):
        # Deleted templates too: they are the ones to restore.
        return WorkflowTemplate.all_objects.select_related("organization")

    @admin.display(description="deployments")
    def deployment_list(self, obj):
        return ", ".join(obj.deployments) or "-"

    @admin.display(description="problems")
    def problems(self, obj):
        if not obj.validation_errors:
            return "-"
        return format_html_join("", "<p>{}</p>", ((line,) for line in obj.validation_errors))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        template = services.validate_template(template=form.instance)
        if template.validation_errors:
            self.message_user(
                request,
                f"{template.name} is invalid and cannot run: {' '.join(template.validation_errors)}",
                messages.WARNING,
            )

    def delete_model(self, request, obj):
        services.delete_templates(templates=[obj])

    def delete_queryset(self, request, queryset):
        services.delete_templates(templates=list(queryset))

    @admin.action(description="Validate the selected templates", permissions=["change"])
    def validate(self, request, queryset):
        invalid = 0
        for template in queryset:
            services.validate_template(template=template)
            invalid += bool(template.validation_errors)
        self.message_user(request, f"Validated {queryset.count()} template(s): {invalid} invalid.", messages.SUCCESS)

    @admin.action(description="Export the selected templates as JSON", permissions=["view"])
    def export_json(self, request, queryset):
        document = selectors.export_data(WorkflowTemplate.objects.filter(pk__in=queryset.values("pk")))
        response = HttpResponse(
            json.dumps(document, indent=2, ensure_ascii=False) + "\n", content_type="application/json"
        )
        response["Content-Disposition"] = 'attachment; filename="workflow-templates.json"'
        return response

    @admin.action(description="Restore the selected deleted templates", permissions=["change"])
    def restore(self, request, queryset):
        restored = 0
        for template in queryset.filter(deleted_at__isnull=False):
            try:
                services.restore_template(template=template)
            except AtelierError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                restored += 1
        self.message_user(request, f"Restored {restored} template(s).", messages.SUCCESS)

    def get_urls(self):
        extra = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="text2image_workflowtemplate_import",
            )
        ]
        return extra + super().get_urls()

    def import_view(self, request):
        if not (
            request.user.has_perm("text2image.add_workflowtemplate")
            and request.user.has_perm("text2image.change_workflowtemplate")
        ):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > MAX_IMPORT_BYTES:
                    raise ValueError(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
                document = json.loads(upload.read().decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                form.add_error("file", f"Not a JSON document: {exc}")
            else:
                try:
                    report = services.import_templates(document=document)
                except AtelierError as exc:
                    form.add_error("file", describe(exc))
                else:
                    for line in report.lines():
                        level = messages.WARNING if line.startswith("invalid") else messages.SUCCESS
                        self.message_user(request, line, level)
                    return redirect(reverse("admin:text2image_workflowtemplate_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import workflow templates",
            "form": form,
        }
        return TemplateResponse(request, "admin/text2image/workflowtemplate/import.html", context)


class FileGroupFileInline(admin.TabularInline):
    model = WorkflowFileGroupFile
    extra = 1
    fields = ("position", "file_name")
    ordering = ("position", "file_name")


@admin.register(WorkflowFileGroup)
class WorkflowFileGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "updated_at")
    search_fields = ("name", "files__file_name")
    inlines = (FileGroupFileInline,)
