"""Organizations and memberships: database constraints and the services that write them."""

import pytest
from django.db import IntegrityError, transaction

from apps.accounts import services
from apps.accounts.models import Membership, Organization
from apps.core.domains import default_domain
from apps.core.errors import Conflict, InvalidInput
from tests.factories import DomainFactory, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_create_organization_makes_the_owner_its_first_member():
    owner = UserFactory()
    organization = services.create_organization(domain=default_domain(), name="  Blue Studio ", owner=owner)
    assert (organization.name, organization.slug) == ("Blue Studio", "blue-studio")
    assert organization.domain == default_domain()
    assert list(organization.memberships.values_list("user", "role")) == [(owner.pk, "owner")]
    assert list(owner.organizations.all()) == [organization]


def test_create_organization_with_an_explicit_slug():
    organization = services.create_organization(
        domain=default_domain(), name="Blue Studio", slug="Blue Team!", owner=UserFactory()
    )
    assert organization.slug == "blue-team"


def test_create_organization_refuses_a_taken_slug():
    services.create_organization(domain=default_domain(), name="Blue Studio", owner=UserFactory())
    with pytest.raises(Conflict, match="slug 'blue-studio' already exists"):
        services.create_organization(domain=default_domain(), name="Blue  studio", owner=UserFactory())
    assert Organization.objects.filter(slug="blue-studio").count() == 1


def test_the_same_slug_on_two_domains():
    site = DomainFactory()
    services.create_organization(domain=default_domain(), name="Blue", owner=UserFactory())
    services.create_organization(domain=site, name="Blue", owner=UserFactory(domain=site))
    assert Organization.objects.filter(slug="blue").count() == 2


def test_create_organization_needs_a_name_with_letters():
    with pytest.raises(InvalidInput) as excinfo:
        services.create_organization(domain=default_domain(), name="!!!", owner=UserFactory())
    assert excinfo.value.errors == {("name",): ["The name must contain letters or digits."]}
    assert not Organization.objects.exists()


def test_create_organization_refuses_an_owner_of_another_domain():
    stranger = UserFactory(domain=DomainFactory())
    with pytest.raises(InvalidInput) as excinfo:
        services.create_organization(domain=default_domain(), name="Blue", owner=stranger)
    assert excinfo.value.errors == {("owner",): ["The owner belongs to another domain."]}
    assert not Organization.objects.exists()


def test_a_deleted_organization_frees_its_slug():
    first = services.create_organization(domain=default_domain(), name="Blue", owner=UserFactory())
    first.delete()
    second = services.create_organization(domain=default_domain(), name="Blue", owner=UserFactory())
    assert second.slug == first.slug
    with pytest.raises(Conflict):
        services.restore_organization(organization=Organization.all_objects.get(pk=first.pk))


def test_live_slugs_are_unique_per_domain_in_the_database():
    OrganizationFactory(slug="taken")
    with transaction.atomic(), pytest.raises(IntegrityError):
        OrganizationFactory(slug="taken")


def test_one_membership_per_user_and_organization():
    membership = MembershipFactory()
    with transaction.atomic(), pytest.raises(IntegrityError):
        Membership.objects.create(organization=membership.organization, user=membership.user, role="admin")


def test_the_role_is_checked_by_the_database():
    membership = MembershipFactory()
    with transaction.atomic(), pytest.raises(IntegrityError):
        Membership.objects.filter(pk=membership.pk).update(role="superhero")


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_set_membership_adds_or_changes_a_role(role):
    owner = UserFactory()
    organization = services.create_organization(domain=default_domain(), name="Blue", owner=owner)
    user = UserFactory()
    membership = services.set_membership(organization=organization, user=user, role=role)
    assert (membership.user, membership.role) == (user, role)
    changed = services.set_membership(organization=organization, user=user, role="member")
    assert changed.pk == membership.pk
    assert Membership.objects.get(pk=membership.pk).role == "member"


def test_set_membership_refuses_an_unknown_role():
    organization = services.create_organization(domain=default_domain(), name="Blue", owner=UserFactory())
    with pytest.raises(InvalidInput) as excinfo:
        services.set_membership(organization=organization, user=UserFactory(), role="superhero")
    assert excinfo.value.errors == {("role",): ["Must be one of owner, admin, member."]}


def test_set_membership_refuses_a_user_of_another_domain():
    organization = services.create_organization(domain=default_domain(), name="Blue", owner=UserFactory())
    with pytest.raises(InvalidInput) as excinfo:
        services.set_membership(organization=organization, user=UserFactory(domain=DomainFactory()), role="member")
    assert excinfo.value.errors == {("user",): ["The user belongs to another domain."]}


def test_an_organization_keeps_an_owner():
    owner = UserFactory()
    organization = services.create_organization(domain=default_domain(), name="Blue", owner=owner)
    with pytest.raises(Conflict, match="at least one owner"):
        services.set_membership(organization=organization, user=owner, role="member")
    assert Membership.objects.get(organization=organization, user=owner).role == "owner"

    co_owner = UserFactory()
    services.set_membership(organization=organization, user=co_owner, role="owner")
    services.set_membership(organization=organization, user=owner, role="admin")
    assert dict(organization.memberships.values_list("user", "role")) == {owner.pk: "admin", co_owner.pk: "owner"}


def test_selectors_scope_organizations_to_their_members():
    from apps.accounts import selectors

    alice, bob = UserFactory(), UserFactory()
    mine = services.create_organization(domain=default_domain(), name="Mine", owner=alice)
    services.create_organization(domain=default_domain(), name="Theirs", owner=bob)
    services.set_membership(organization=mine, user=bob, role="member")

    assert list(selectors.organizations_for(alice)) == [mine]
    assert set(selectors.organizations_for(bob).values_list("name", flat=True)) == {"Mine", "Theirs"}
    assert selectors.membership(user=bob, organization=mine).role == "member"
    assert selectors.membership(user=alice, organization=Organization.objects.get(name="Theirs")) is None
