"""Writes of the accounts app. Views, admin actions, tasks and commands all call these."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from apps.core.errors import Conflict, InvalidInput, PermissionDenied
from apps.core.models import Domain

from ..models import AccessToken, AdminKey, ApiSession, Membership, Organization, User

__all__ = [
    "create_admin_key",
    "create_organization",
    "create_session",
    "deactivate_users",
    "issue_access_token",
    "login_for_access_token",
    "purge_expired_credentials",
    "restore_organization",
    "restore_user",
    "revoke_access_token",
    "revoke_admin_keys",
    "revoke_session_ids",
    "revoke_sessions",
    "set_membership",
]


def create_session(*, domain: Domain, user: User | None = None, ip_address=None, user_agent: str = "") -> ApiSession:
    return ApiSession.objects.create(
        domain=domain,
        user=user,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:300],
        expires_at=timezone.now() + settings.API_SESSION_TTL,
    )


def revoke_sessions(*, user: User, keep: ApiSession | None = None) -> int:
    """Revoke every live session of ``user`` except ``keep``; returns how many."""
    qs = ApiSession.objects.filter(user=user, revoked_at__isnull=True)
    if keep is not None:
        qs = qs.exclude(pk=keep.pk)
    return qs.update(revoked_at=timezone.now())


def deactivate_users(*, users) -> int:
    """Block sign-in for ``users`` (a queryset or iterable); their sessions and tokens stop working."""
    ids = [user.pk for user in users]
    return User.all_objects.filter(pk__in=ids, is_active=True).update(is_active=False)


def revoke_session_ids(*, ids) -> int:
    return ApiSession.objects.filter(pk__in=list(ids), revoked_at__isnull=True).update(revoked_at=timezone.now())


def issue_access_token(*, user: User, name: str = "", ttl: timedelta | None = None) -> tuple[AccessToken, str]:
    """A new bearer token; the plain secret is returned once and never stored."""
    secret, prefix, digest = AccessToken.new_secret()
    ttl = settings.ACCESS_TOKEN_TTL if ttl is None else ttl
    token = AccessToken.objects.create(
        user=user, name=name[:100], prefix=prefix, secret_hash=digest, expires_at=timezone.now() + ttl
    )
    return token, secret


def login_for_access_token(*, request, username: str, password: str) -> str:
    """OAuth2 password grant: a bearer token for the credentials of a user of the request's domain."""
    user = authenticate(request=request, username=username, password=password)
    if user is None:
        raise InvalidInput("Incorrect email or password")
    from .signin import SIGN_IN_BLOCKED_LEVEL

    if user.abuse_level >= SIGN_IN_BLOCKED_LEVEL:
        # Inactive users never get here: authenticate() refuses them like a wrong password.
        raise InvalidInput("Inactive user")
    _, secret = issue_access_token(user=user, name="login")
    return secret


def revoke_access_token(*, token: AccessToken) -> bool:
    return bool(AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()))


def create_admin_key(*, user: User, name: str = "", expires_at=None) -> tuple[AdminKey, str]:
    """A personal administration key for a staff user; the plain key is returned once."""
    if not user.is_staff:
        raise PermissionDenied("Administration keys are only issued to staff users.")
    secret, prefix, digest = AdminKey.new_secret()
    key = AdminKey.objects.create(user=user, name=name[:100], prefix=prefix, secret_hash=digest, expires_at=expires_at)
    return key, secret


def revoke_admin_keys(*, user: User | None = None, prefix: str | None = None) -> int:
    """Revoke one key (by its prefix) or every key of ``user``; returns how many."""
    if user is None and not prefix:
        raise InvalidInput("Name the key's prefix or its owner.")
    qs = AdminKey.objects.filter(revoked_at__isnull=True)
    if user is not None:
        qs = qs.filter(user=user)
    if prefix is not None:
        qs = qs.filter(prefix=prefix)
    return qs.update(revoked_at=timezone.now())


def purge_expired_credentials(*, older_than: timedelta = timedelta(days=30)) -> dict:
    """Delete sessions and tokens that expired or were revoked more than ``older_than`` ago."""
    cutoff = timezone.now() - older_than
    counts = {}
    for model in (ApiSession, AccessToken):
        stale = model.objects.filter(Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff))
        _, per_model = stale.delete()
        counts[model._meta.model_name] = per_model.get(model._meta.label, 0)
    return counts


def create_organization(*, domain: Domain, name: str, owner: User, slug: str = "") -> Organization:
    """A new organization of ``domain`` with ``owner`` as its first owner."""
    name = (name or "").strip()
    slug = slugify(slug or name)[:100]
    if not slug:
        raise InvalidInput(errors={("name",): ["The name must contain letters or digits."]})
    if owner.domain_id != domain.pk:
        raise InvalidInput(errors={("owner",): ["The owner belongs to another domain."]})
    if Organization.objects.filter(domain=domain, slug=slug).exists():
        raise Conflict(f"An organization with the slug '{slug}' already exists.")
    try:
        with transaction.atomic():
            organization = Organization.objects.create(domain=domain, name=name[:200], slug=slug)
            Membership.objects.create(organization=organization, user=owner, role=Membership.Role.OWNER)
    except IntegrityError as exc:  # created concurrently under the same slug
        raise Conflict(f"An organization with the slug '{slug}' already exists.") from exc
    return organization


@transaction.atomic
def set_membership(*, organization: Organization, user: User, role: str) -> Membership:
    """Add ``user`` to ``organization`` with ``role``, or change their role. An organization always
    keeps at least one owner."""
    if role not in Membership.Role.values:
        raise InvalidInput(errors={("role",): [f"Must be one of {', '.join(Membership.Role.values)}."]})
    if user.domain_id != organization.domain_id:
        raise InvalidInput(errors={("user",): ["The user belongs to another domain."]})
    # Lock the organization's memberships so that two demotions cannot both pass the owner check.
    owners = list(
        Membership.objects.select_for_update()
        .filter(organization=organization, role=Membership.Role.OWNER)
        .values_list("user_id", flat=True)
    )
    if role != Membership.Role.OWNER and owners == [user.pk]:
        raise Conflict("An organization must keep at least one owner.")
    membership, _ = Membership.objects.update_or_create(organization=organization, user=user, defaults={"role": role})
    return membership


def restore_user(*, user: User) -> User:
    """Undo the soft delete of ``user``; refused while a live user of the domain has the same email."""
    if user.deleted_at is None:
        return user
    if User.objects.filter(domain_id=user.domain_id, email__iexact=user.email).exists():
        raise Conflict(f"Another user of this domain now has the email {user.email}.")
    if user.username and User.objects.filter(domain_id=user.domain_id, username__iexact=user.username).exists():
        raise Conflict(f"Another user of this domain now has the username {user.username}.")
    try:
        with transaction.atomic():
            user.restore()
    except IntegrityError as exc:
        raise Conflict(f"Another user of this domain now has the email {user.email}.") from exc
    return user


def restore_organization(*, organization: Organization) -> Organization:
    """Undo the soft delete of ``organization``; refused while a live one of the domain has its slug."""
    if organization.deleted_at is None:
        return organization
    if Organization.objects.filter(domain_id=organization.domain_id, slug=organization.slug).exists():
        raise Conflict(f"Another organization of this domain now has the slug '{organization.slug}'.")
    try:
        with transaction.atomic():
            organization.restore()
    except IntegrityError as exc:
        raise Conflict(f"Another organization of this domain now has the slug '{organization.slug}'.") from exc
    return organization
