from allauth.socialaccount.models import SocialAccount
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.html import format_html

from apps.core.admin import SoftDeleteAdmin
from apps.core.errors import AtelierError

from . import services
from .api.serializers import picture_data_uri
from .models import AccessToken, AdminKey, ApiSession, AppPassword, Membership, Organization, User, UserKeyValue


class _DomainScopedIdentity:
    """Email and username are unique among the live users of a domain, not globally: check them
    here, with the domain, so that a clash is a form error rather than a database error."""

    def clean_username(self):
        # Django's creation form checks usernames across the whole table; uniqueness is per domain
        # and is checked in clean() once the domain is known.
        return self.cleaned_data.get("username", "")

    def clean(self):
        cleaned = super().clean()
        domain = cleaned.get("domain") or (self.instance.domain if self.instance.domain_id else None)
        if domain is None:
            return cleaned
        others = User.objects.filter(domain=domain).exclude(pk=self.instance.pk)
        email = cleaned.get("email")
        if email and others.filter(email__iexact=email).exists():
            self.add_error("email", "A user with this email already exists on this domain.")
        username = cleaned.get("username")
        if username and others.filter(username__iexact=username).exists():
            self.add_error("username", "A user with this username already exists on this domain.")
        return cleaned


class UserCreationForm(_DomainScopedIdentity, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "domain", "username")


class UserEditForm(_DomainScopedIdentity, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class _ReadOnlyInline(admin.TabularInline):
    """Rows shown on the user's page for reference; they change only through services."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LiveSessionInline(_ReadOnlyInline):
    model = ApiSession
    verbose_name_plural = "live API sessions"
    fields = ("id", "created_at", "last_seen_at", "expires_at", "ip_address", "user_agent")
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).usable()


class KeyValueInline(_ReadOnlyInline):
    model = UserKeyValue
    fields = ("key", "value_preview", "updated_at")

    @admin.display(description="value")
    def value_preview(self, obj):
        return obj.value if len(obj.value) <= 200 else f"{obj.value[:200]}… ({len(obj.value):,} characters)"


class LoginProviderInline(_ReadOnlyInline):
    model = SocialAccount
    verbose_name = "login provider"
    verbose_name_plural = "login providers (OAuth)"
    fields = ("provider", "uid", "date_joined", "last_login")


@admin.register(User)
class UserAdmin(SoftDeleteAdmin, DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    list_display = (
        "email",
        "username",
        "domain",
        "is_active",
        "is_staff",
        "abuse_level",
        "profile_picture_banned",
        "date_joined",
        "deleted_at",
    )
    list_filter = ("domain", "abuse_level", "is_active", "profile_picture_banned", "is_staff", "is_superuser", "groups")
    search_fields = ("email", "username")
    ordering = ("-date_joined",)
    list_select_related = ("domain",)
    readonly_fields = (
        "date_joined",
        "last_login",
        "updated_at",
        "deleted_at",
        "abuse_level",
        "profile_picture_banned",
        "picture",
        "has_signed_in_with_otp",
        "has_signed_in_with_password",
    )
    fieldsets = (
        (None, {"fields": ("email", "username", "domain", "password")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (
            "Profile",
            {"fields": ("picture", "is_at_least_18_confirmed", "ref_list", "referrer")},
        ),
        (
            "Moderation",
            {
                "description": "Abuse level and picture ban change through the actions of the user list.",
                "fields": ("abuse_level", "profile_picture_banned", "additional_information"),
            },
        ),
        ("Sign-in", {"fields": ("has_signed_in_with_otp", "has_signed_in_with_password")}),
        ("Dates", {"fields": ("date_joined", "last_login", "updated_at", "deleted_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "domain", "username", "password1", "password2")}),
    )
    inlines = [LiveSessionInline, KeyValueInline, LoginProviderInline]
    actions = [
        "restore_selected",
        "revoke_all_sessions",
        "deactivate",
        "set_abuse_level_0",
        "set_abuse_level_1",
        "set_abuse_level_9",
        "ban_profile_picture",
        "unban_profile_picture",
    ]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_moderate_permission(self, request):
        return request.user.has_perm("accounts.moderate_user")

    @admin.display(description="profile picture")
    def picture(self, obj):
        uri = picture_data_uri(obj)
        if not uri:
            return "(none)"
        return format_html('<img src="{}" width="128" height="128" alt="profile picture">', uri)

    def delete_model(self, request, obj):
        services.delete_user(user=obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            services.delete_user(user=user)

    @admin.action(description="Restore selected (undo delete)", permissions=["change"])
    def restore_selected(self, request, queryset):
        _restore_each(self, request, queryset, lambda user: services.restore_user(user=user))

    @admin.action(description="Sign out everywhere (revoke all API sessions)", permissions=["moderate"])
    def revoke_all_sessions(self, request, queryset):
        total = sum(services.revoke_sessions(user=user) for user in queryset)
        self.message_user(request, f"Revoked {total} session(s).", messages.SUCCESS)

    @admin.action(description="Deactivate selected users", permissions=["change"])
    def deactivate(self, request, queryset):
        count = services.deactivate_users(users=queryset)
        self.message_user(request, f"Deactivated {count} user(s).", messages.SUCCESS)

    def _set_abuse_level(self, request, queryset, level: int):
        users = list(queryset)
        for user in users:
            services.set_abuse_level(user=user, level=level)
        self.message_user(request, f"Set the abuse level of {len(users)} user(s) to {level}.", messages.SUCCESS)

    @admin.action(description="Set abuse level 0 (no limits)", permissions=["moderate"])
    def set_abuse_level_0(self, request, queryset):
        self._set_abuse_level(request, queryset, 0)

    @admin.action(description="Set abuse level 1 (generation blocked)", permissions=["moderate"])
    def set_abuse_level_1(self, request, queryset):
        self._set_abuse_level(request, queryset, 1)

    @admin.action(description="Set abuse level 9 (signed out everywhere, sign-in blocked)", permissions=["moderate"])
    def set_abuse_level_9(self, request, queryset):
        self._set_abuse_level(request, queryset, 9)

    def _set_picture_ban(self, request, queryset, banned: bool):
        users = list(queryset)
        for user in users:
            services.set_profile_picture_banned(user=user, banned=banned)
        verb = "Banned (and removed)" if banned else "Lifted the ban on"
        self.message_user(request, f"{verb} the profile picture of {len(users)} user(s).", messages.SUCCESS)

    @admin.action(description="Ban the profile picture (removes it)", permissions=["moderate"])
    def ban_profile_picture(self, request, queryset):
        self._set_picture_ban(request, queryset, True)

    @admin.action(description="Lift the profile picture ban", permissions=["moderate"])
    def unban_profile_picture(self, request, queryset):
        self._set_picture_ban(request, queryset, False)


def _restore_each(model_admin, request, queryset, restore):
    """Restore each deleted row through its service; report the ones that clash with live rows."""
    restored = 0
    for obj in queryset.filter(deleted_at__isnull=False):
        try:
            restore(obj)
        except AtelierError as exc:
            model_admin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        else:
            restored += 1
    model_admin.message_user(request, f"Restored {restored} row(s).", messages.SUCCESS)


class RevocableAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "user", "created_at", "expires_at", "last_used_at", "revoked_at", "state")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "name", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    autocomplete_fields = ("user",)
    actions = ["revoke"]

    @admin.display(description="state")
    def state(self, obj):
        return "usable" if obj.is_usable else ("revoked" if obj.revoked_at else "expired")

    def has_change_permission(self, request, obj=None):
        # Secrets are never edited: they are issued, then revoked.
        return obj is None and super().has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        return ("user", "name", "expires_at") if obj is None else super().get_fields(request, obj)


class IssueForm(forms.ModelForm):
    class Meta:
        fields = ("user", "name", "expires_at")


class AdminKeyIssueForm(IssueForm):
    def clean_user(self):
        user = self.cleaned_data["user"]
        if not user.is_staff:
            raise forms.ValidationError("Administration keys are only issued to staff users.")
        return user


@admin.register(AccessToken)
class AccessTokenAdmin(RevocableAdmin):
    form = IssueForm

    def save_model(self, request, obj, form, change):
        from django.utils import timezone

        ttl = (obj.expires_at - timezone.now()) if obj.expires_at else None
        token, secret = services.issue_access_token(user=obj.user, name=obj.name, ttl=ttl)
        obj.pk, obj.prefix = token.pk, token.prefix
        self.message_user(
            request, format_html("Token issued. Copy it now, it is not shown again: <code>{}</code>", secret)
        )

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        count = sum(services.revoke_access_token(token=t) for t in queryset)
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)


@admin.register(AdminKey)
class AdminKeyAdmin(RevocableAdmin):
    form = AdminKeyIssueForm

    def save_model(self, request, obj, form, change):
        key, secret = services.create_admin_key(user=obj.user, name=obj.name, expires_at=obj.expires_at)
        obj.pk, obj.prefix = key.pk, key.prefix
        self.message_user(
            request, format_html("Admin key created. Copy it now, it is not shown again: <code>{}</code>", secret)
        )

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        count = sum(services.revoke_admin_keys(prefix=k.prefix) for k in queryset)
        self.message_user(request, f"Revoked {count} key(s).", messages.SUCCESS)


@admin.register(AppPassword)
class AppPasswordAdmin(RevocableAdmin):
    """App passwords for HTTP Basic clients (Nextcloud OCS): issued here, shown once, then revoked."""

    form = IssueForm

    def save_model(self, request, obj, form, change):
        app_password, secret = services.create_app_password(user=obj.user, name=obj.name, expires_at=obj.expires_at)
        obj.pk, obj.prefix = app_password.pk, app_password.prefix
        self.message_user(
            request,
            format_html("App password created. Copy it now, it is not shown again: <code>{}</code>", secret),
        )

    @admin.action(description="Revoke selected app passwords")
    def revoke(self, request, queryset):
        count = sum(services.revoke_app_passwords(prefix=p.prefix) for p in queryset)
        self.message_user(request, f"Revoked {count} app password(s).", messages.SUCCESS)


@admin.register(ApiSession)
class ApiSessionAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "domain", "created_at", "last_seen_at", "expires_at", "revoked_at", "ip_address")
    list_filter = ("domain", "revoked_at")
    search_fields = ("id", "user__email", "ip_address")
    list_select_related = ("user", "domain")
    readonly_fields = [f.name for f in ApiSession._meta.fields]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke selected sessions")
    def revoke(self, request, queryset):
        count = services.revoke_session_ids(ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"Revoked {count} session(s).", messages.SUCCESS)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(SoftDeleteAdmin):
    list_display = ("name", "slug", "domain", "member_count", "created_at", "deleted_at")
    search_fields = ("name", "slug")
    list_filter = ("domain",)
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.action(description="Restore selected (undo delete)")
    def restore_selected(self, request, queryset):
        _restore_each(self, request, queryset, lambda org: services.restore_organization(organization=org))

    @admin.display(description="members", ordering="_members")
    def member_count(self, obj):
        return obj._members
