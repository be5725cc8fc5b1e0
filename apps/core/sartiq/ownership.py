"""Owners and organizations of Sartiq resources.

Rules (the same for every resource):

- Every resource has an owner and an optional organization.
- A request scoped with ``organization_id`` needs the user to be a member of that organization
  (403 otherwise) and sees that organization's resources.
- Without ``organization_id``, lists show the user's personal resources (no organization), plus the
  public ones where the endpoint asks for them (``include_public`` / ``public``).
- A single resource can be read by its owner, by members of its organization, and by anyone when it
  is public; it can be changed by its owner (personal resources) or by members (organization ones).
- Changing ``organization_id`` transfers the resource: into an organization the user is a member of;
  out of an organization (to another one or back to personal) only by that organization's owner.
- Superusers see and change everything, may filter lists by ``owner_id`` and may give a resource to
  another owner.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet

from apps.core.errors import InvalidInput, NotFound, PermissionDenied
from apps.core.models import BaseModel, SoftDeleteModel

NOT_A_MEMBER = "You are not a member of this organization."
ADMIN_ONLY = "Only administrators may do this."


class OwnedResource(BaseModel, SoftDeleteModel):
    """Base of every Sartiq resource: owner, optional organization, soft delete.

    Concrete models that have a ``public`` flag in the spec declare it themselves; ``scoped_queryset``
    notices it. A concrete ``Meta`` should subclass ``OwnedResource.Meta`` to keep the ordering and
    the base manager (which sees soft-deleted rows, for restores and purges).
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="%(app_label)s_%(class)s_owned"
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="%(app_label)s_%(class)s_set",
    )

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
        base_manager_name = "all_objects"


def has_public_flag(model) -> bool:
    try:
        field = model._meta.get_field("public")
    except Exception:
        return False
    return isinstance(field, models.BooleanField)


def is_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


def _uuid(value, name: str, location: str = "query") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise InvalidInput(errors={(name,): ["Input should be a valid UUID."]}, location=location) from None


def membership_role(user, organization) -> str | None:
    """The user's role in the organization (owner, admin, member), None when not a member."""
    from apps.accounts import selectors

    membership = selectors.membership(user=user, organization=organization)
    return membership.role if membership else None


def organization_for(*, user, organization_id, location: str = "query", name: str = "organization_id"):
    """The live organization ``organization_id`` when ``user`` may act in it: a member, or a superuser.
    PermissionDenied (403) for anyone else, whether or not it exists; NotFound (404) for a superuser
    naming an organization that does not exist."""
    from apps.accounts.models import Organization

    org_id = _uuid(organization_id, name, location)
    organization = Organization.objects.filter(pk=org_id).first()
    if is_admin(user):
        if organization is None:
            raise NotFound(f"No organization has the id '{org_id}'.")
        return organization
    if organization is None or organization.domain_id != user.domain_id or membership_role(user, organization) is None:
        raise PermissionDenied(NOT_A_MEMBER)
    return organization


def member_organization_ids(user) -> QuerySet:
    from apps.accounts.models import Membership

    return Membership.objects.filter(user=user, organization__deleted_at__isnull=True).values("organization_id")


def scoped_queryset(
    queryset: QuerySet,
    *,
    request,
    organization_id=None,
    include_public: bool = False,
    owner_id=None,
) -> QuerySet:
    """What a list shows the request's user (see the module's rules).

    ``owner_id`` is for superusers (403 for anyone else): the rows of that owner, plus the public
    ones when the model has a public flag. Superusers see every row unless they scope.
    """
    user = request.user
    public = has_public_flag(queryset.model)
    if owner_id is not None:
        if not is_admin(user):
            raise PermissionDenied("Only administrators may filter by owner_id.")
        owner_id = _uuid(owner_id, "owner_id")
        queryset = queryset.filter(Q(owner_id=owner_id) | Q(public=True) if public else Q(owner_id=owner_id))
    if organization_id is not None:
        organization = organization_for(user=user, organization_id=organization_id)
        condition = Q(organization=organization)
        if include_public and public:
            condition |= Q(public=True)
        return queryset.filter(condition)
    if is_admin(user):
        return queryset
    condition = Q(owner=user, organization__isnull=True)
    if include_public and public:
        condition |= Q(public=True)
    return queryset.filter(condition)


def accessible_queryset(queryset: QuerySet, *, user, organization_id=None) -> QuerySet:
    """The rows ``user`` may read one by one: personal ones, those of the user's organizations and
    public ones (everything for superusers). With ``organization_id``, that organization's rows (and
    public ones), after the membership check."""
    public = has_public_flag(queryset.model)
    if organization_id is not None:
        organization = organization_for(user=user, organization_id=organization_id)
        condition = Q(organization=organization)
        if public:
            condition |= Q(public=True)
        return queryset.filter(condition)
    if is_admin(user):
        return queryset
    condition = Q(owner=user, organization__isnull=True) | Q(organization_id__in=member_organization_ids(user))
    if public:
        condition |= Q(public=True)
    return queryset.filter(condition)


def can_modify(user, resource) -> bool:
    """Whether ``user`` may change or delete ``resource``: its owner when personal, a member of its
    organization otherwise; superusers always."""
    if is_admin(user):
        return True
    if resource.organization_id is not None:
        return membership_role(user, resource.organization) is not None
    return resource.owner_id == user.pk


def check_modify(user, resource) -> None:
    if not can_modify(user, resource):
        raise PermissionDenied("You are not allowed to change this resource.")


def check_transfer(*, user, resource, organization_id):
    """The organization ``resource`` moves to (None: personal) when ``user`` may move it there.

    Into an organization: membership needed. Out of the current organization: only its owner.
    Superusers may do both. Staying in the same organization is no transfer.
    """
    target = None
    if organization_id is not None:
        target_id = _uuid(organization_id, "organization_id", "body")
        if resource.organization_id == target_id:
            return resource.organization
        target = organization_for(user=user, organization_id=target_id, location="body")
    elif resource.organization_id is None:
        return None
    if (
        resource.organization_id is not None
        and not is_admin(user)
        and membership_role(user, resource.organization) != "owner"
    ):
        raise PermissionDenied("Only the organization's owner may move a resource out of it.")
    return target


def resolve_owner(*, user, owner_id):
    """The owner of a new or re-assigned resource: the user itself, or (superusers only) the user
    ``owner_id`` names."""
    if owner_id is None:
        return user
    owner_id = _uuid(owner_id, "owner_id", "body")
    if owner_id == user.pk:
        return user
    if not is_admin(user):
        raise PermissionDenied("Only administrators may set another owner.")
    from apps.accounts.models import User

    owner = User.objects.filter(pk=owner_id).first()
    if owner is None:
        raise InvalidInput(errors={("owner_id",): [f"No user has the id '{owner_id}'."]})
    return owner


def check_organization_owner(*, owner, organization) -> None:
    """A resource of an organization must be owned by one of its members (or a superuser)."""
    if organization is None or is_admin(owner) or membership_role(owner, organization) is not None:
        return
    raise InvalidInput(errors={("owner_id",): ["The owner must be a member of the resource's organization."]})


def can_use_media(user, resource) -> bool:
    """Whether ``user`` may attach (and annotate) an existing MediaResource: its owner, a member of
    its organization, or a superuser."""
    if is_admin(user):
        return True
    if resource.owner_id is not None and resource.owner_id == getattr(user, "pk", None):
        return True
    return resource.organization_id is not None and membership_role(user, resource.organization) is not None
