from django.contrib import admin, messages

from .models import Domain, DomainHost


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
