"""Tags back office: each user's tag vocabulary with its usage counts, and a recount action."""

from django.contrib import admin, messages

from . import services
from .models import Tag

RECOUNT = "tags.recount_tag"


@admin.action(description="Recount the usage of every tag of the selected tags' owners", permissions=["recount"])
def recount(modeladmin, request, queryset):
    changed = 0
    for owner_id in queryset.values_list("owner_id", flat=True).distinct():
        changed += services.recount(owner=owner_id)
    modeladmin.message_user(request, f"Recounted: {changed} usage count(s) corrected.", messages.SUCCESS)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "usage_count", "owner", "created_at", "updated_at")
    search_fields = ("name", "owner__email", "owner__username")
    list_select_related = ("owner",)
    ordering = ("-usage_count", "name")
    readonly_fields = ("name", "owner", "usage_count", "created_at", "updated_at")
    fields = readonly_fields
    actions = (recount,)
    list_per_page = 100

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_recount_permission(self, request):
        return request.user.has_perm(RECOUNT)
