"""seed_demo loads the demo people, organization and second site, and running it again changes nothing."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from apps.accounts.demo import PASSWORD
from apps.accounts.models import AccessToken, ApiSession, Membership, Organization, User
from apps.core.domains import default_domain, domain_for_host
from apps.core.models import Domain, DomainHost

pytestmark = pytest.mark.django_db

MODELS = (User, Organization, Membership, Domain, DomainHost, Group, AccessToken, ApiSession)


def _counts():
    return {model.__name__: model._default_manager.count() for model in MODELS} | {
        "group memberships": User.groups.through.objects.count()
    }


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_creates_the_demo_data():
    before = _counts()
    out = _seed()

    domain = default_domain()
    admin = User.objects.get(email="admin@example.com", domain=domain)
    assert (admin.is_staff, admin.is_superuser) == (True, True)
    assert admin.check_password(PASSWORD)

    moderator = User.objects.get(email="moderator@example.com", domain=domain)
    assert (moderator.is_staff, moderator.is_superuser) == (True, False)
    assert list(moderator.groups.values_list("name", flat=True)) == ["moderator"]
    assert moderator.has_perm("accounts.moderate_user")

    for email in ("alice@example.com", "bob@example.com"):
        user = User.objects.get(email=email, domain=domain)
        assert (user.is_staff, user.is_superuser) == (False, False)
        assert user.check_password(PASSWORD)

    studio = Organization.objects.get(slug="demo-studio", domain=domain)
    assert dict(studio.memberships.values_list("user__email", "role")) == {
        "alice@example.com": "owner",
        "bob@example.com": "member",
    }

    staging = Domain.objects.get(code="freejourney-staging")
    assert (staging.environment, staging.is_default) == ("staging", False)
    assert domain_for_host("staging-api.freejourney.localhost").pk == staging.pk
    assert staging.allows_origin("http://localhost:5173/")

    after = _counts()
    assert after["User"] - before["User"] == 4
    assert after["Organization"] - before["Organization"] == 1
    assert after["Membership"] - before["Membership"] == 2
    assert after["Domain"] - before["Domain"] == 1
    assert after["DomainHost"] - before["DomainHost"] == 1
    assert after["Group"] == before["Group"]

    assert "[accounts] user admin@example.com / Atelier-demo-1 (created, admin)" in out
    assert "[core] domain FreeJourney.ai (staging) (created)" in out


def test_seed_demo_twice_changes_nothing():
    _seed()
    first = _counts()
    out = _seed()
    assert _counts() == first
    assert "(created" not in out
    assert "[accounts] organization Demo Studio (exists): alice owner, bob member" in out


def test_seed_demo_puts_the_demo_roles_back():
    _seed()
    bob = User.objects.get(email="bob@example.com")
    studio = Organization.objects.get(slug="demo-studio")
    Membership.objects.filter(organization=studio, user=bob).update(role="admin")
    _seed()
    # bob is a plain member again, and nothing was duplicated.
    assert Membership.objects.filter(organization=studio, user=bob).get().role == "member"
    assert User.objects.filter(email="bob@example.com").count() == 1
