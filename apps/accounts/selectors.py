"""Reads of the accounts app: credential lookups and permission-scoped querysets."""

import uuid
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from apps.core.models import Domain

from .models import AccessToken, AdminKey, ApiSession, HashedSecret, Membership, Organization, User

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
    if session is None or (session.user_id and (not session.user.is_active or session.user.is_deleted)):
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


def user_by_email(*, email: str, domain: Domain) -> User | None:
    return User.objects.filter(email__iexact=email.strip(), domain=domain).first()


def organizations_for(user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user).distinct()


def membership(*, user: User, organization: Organization) -> Membership | None:
    return Membership.objects.filter(user=user, organization=organization).first()
