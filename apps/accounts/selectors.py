"""Reads of the accounts app: credential lookups and permission-scoped querysets."""

import uuid
from datetime import timedelta

from django.db.models import F, QuerySet
from django.utils import timezone

from apps.core.models import Domain

from .models import (
    AccessToken,
    AdminKey,
    ApiSession,
    AppPassword,
    ArchivedEmail,
    HashedSecret,
    Membership,
    Organization,
    User,
    UserKeyValue,
)
from .roles import ROLE_PERMISSIONS

# last_seen_at / last_used_at are written at most this often per credential.
TOUCH_INTERVAL = timedelta(minutes=5)


def _touch(model, obj, field: str) -> None:
    now = timezone.now()
    last = getattr(obj, field)
    if last is None or now - last > TOUCH_INTERVAL:
        model.objects.filter(pk=obj.pk).update(**{field: now})
        setattr(obj, field, now)


def active_session(*, session_id: uuid.UUID, domain: Domain) -> ApiSession | None:
    session = ApiSession.objects.usable().select_related("user").filter(pk=session_id, domain=domain).first()
    if session is None:
        return None
    if session.user_id:
        from .services.signin import SIGN_IN_BLOCKED_LEVEL

        user = session.user
        if not user.is_active or user.is_deleted or user.abuse_level >= SIGN_IN_BLOCKED_LEVEL:
            return None
    _touch(ApiSession, session, "last_seen_at")
    return session


def _secret_lookup(model: type[HashedSecret], secret: str):
    parts = HashedSecret.split(secret)
    if parts is None:
        return None
    prefix, key = parts
    obj = model.objects.usable().select_related("user").filter(prefix=prefix).first()
    if obj is None or not obj.matches(key) or not obj.user.is_active or obj.user.is_deleted:
        return None
    _touch(model, obj, "last_used_at")
    return obj


def access_token_from_secret(secret: str, *, domain: Domain) -> AccessToken | None:
    token = _secret_lookup(AccessToken, secret)
    if token is None or token.user.domain_id != domain.pk:
        return None
    return token


def admin_key_from_secret(secret: str) -> AdminKey | None:
    key = _secret_lookup(AdminKey, secret)
    if key is None or not key.user.is_staff:
        return None
    return key


def app_password_for(*, login: str, secret: str, domain: Domain) -> AppPassword | None:
    """The usable app password ``secret`` of the user who signs in as ``login`` (email or username)
    on ``domain``; None when the password is not one, belongs to someone else, or the user may not
    sign in (inactive, deleted, or blocked by abuse level 9)."""
    from .services.signin import SIGN_IN_BLOCKED_LEVEL

    parts = HashedSecret.split(secret)
    login = (login or "").strip()
    if parts is None or not login:
        return None
    prefix, key = parts
    app_password = AppPassword.objects.usable().select_related("user").filter(prefix=prefix).first()
    if app_password is None or not app_password.matches(key):
        return None
    user = app_password.user
    named = user.email.lower() == login.lower() if "@" in login else user.username.lower() == login.lower()
    if (
        not named
        or user.domain_id != domain.pk
        or not user.is_active
        or user.is_deleted
        or user.abuse_level >= SIGN_IN_BLOCKED_LEVEL
    ):
        return None
    _touch(AppPassword, app_password, "last_used_at")
    return app_password


def user_by_email(*, email: str, domain: Domain) -> User | None:
    return User.objects.filter(email__iexact=email.strip(), domain=domain).first()


def organizations_for(user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user).distinct()


def membership(*, user: User, organization: Organization) -> Membership | None:
    return Membership.objects.filter(user=user, organization=organization).first()


# --- AIMG profile ----------------------------------------------------------------------------------

SUPERUSER_ROLE = "superuser"
# allauth provider ids and the names the AIMG LoginProvider type gives them.
OAUTH_PROVIDER_NAMES = {"google": "Google", "discord": "Discord", "github": "GitHub", "patreon": "Patreon"}
# A social account linked within this time of the user's creation is the one the user signed up
# with; one linked later was connected to an existing account (AIMG connectProviders).
SIGN_UP_LINK_WINDOW = timedelta(minutes=1)


def find_user(
    *,
    domain: Domain,
    user_id: uuid.UUID | None = None,
    email: str | None = None,
    username: str | None = None,
    include_deleted: bool = False,
) -> User | None:
    """The user of ``domain`` matching every criterion given. With ``include_deleted``, a live user
    comes first, then the most recently deleted one (emails and usernames are reused after a delete)."""
    email = (email or "").strip()
    username = (username or "").strip()
    if user_id is None and not email and not username:
        raise ValueError("find_user() needs a user id, an email or a username.")
    queryset = (User.all_objects if include_deleted else User.objects).filter(domain=domain)
    if user_id is not None:
        queryset = queryset.filter(pk=user_id)
    if email:
        queryset = queryset.filter(email__iexact=email)
    if username:
        queryset = queryset.filter(username__iexact=username)
    return queryset.select_related("domain").order_by(F("deleted_at").desc(nulls_first=True), "-date_joined").first()


def username_taken(*, username: str, domain: Domain, exclude: User | None = None) -> bool:
    queryset = User.objects.filter(domain=domain, username__iexact=username.strip())
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude.pk)
    return queryset.exists()


def email_taken(*, email: str, domain: Domain, exclude: User | None = None) -> bool:
    queryset = User.objects.filter(domain=domain, email__iexact=email.strip())
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude.pk)
    return queryset.exists()


def key_value(*, user: User, key: str) -> UserKeyValue | None:
    return UserKeyValue.objects.filter(user=user, key=key).first()


def key_value_count(user: User) -> int:
    return UserKeyValue.objects.filter(user=user).count()


def _social_accounts(user: User):
    from allauth.socialaccount.models import SocialAccount

    return SocialAccount.objects.filter(user=user, provider__in=OAUTH_PROVIDER_NAMES).order_by("date_joined", "pk")


def has_external_login(user: User) -> bool:
    """Whether the user has signed in through an OAuth provider (a linked social account)."""
    return _social_accounts(user).exists()


def _oauth_provider(account) -> dict:
    return {"providerType": "oauth", "providerId": OAUTH_PROVIDER_NAMES[account.provider], "userId": account.uid}


def login_providers(user: User) -> list[dict]:
    """AIMG LoginProvider objects: OTP and Password once used, then each linked OAuth account."""
    providers = []
    if user.has_signed_in_with_otp:
        providers.append({"providerType": "internal", "providerId": "OTP"})
    if user.has_signed_in_with_password:
        providers.append({"providerType": "internal", "providerId": "Password"})
    return providers + [_oauth_provider(account) for account in _social_accounts(user)]


def connect_providers(user: User) -> list[dict]:
    """The OAuth accounts linked to the user after sign-up (not the one the user signed up with)."""
    linked_after = user.date_joined + SIGN_UP_LINK_WINDOW
    return [_oauth_provider(account) for account in _social_accounts(user).filter(date_joined__gt=linked_after)]


def roles_of(user: User) -> list[str]:
    """The staff roles (groups of apps/accounts/roles.py) the user holds, plus ``superuser``."""
    order = list(ROLE_PERMISSIONS)
    held = set(user.groups.filter(name__in=order).values_list("name", flat=True))
    roles = [role for role in order if role in held]
    if user.is_superuser:
        roles.append(SUPERUSER_ROLE)
    return roles


def archived_emails(user: User) -> list[ArchivedEmail]:
    return list(ArchivedEmail.objects.filter(user=user).order_by("-archived_at", "pk"))
