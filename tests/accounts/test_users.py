"""Creating users: one email per domain, and a default username that never clashes."""

import pytest

from apps.accounts.models import User
from apps.core.domains import default_domain
from tests.factories import DomainFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_create_user_on_the_default_domain():
    user = User.objects.create_user("Alice@EXAMPLE.com", "Zebra-Tulip-492")
    assert (user.email, user.username, user.domain) == ("Alice@example.com", "Alice", default_domain())
    assert user.check_password("Zebra-Tulip-492")
    assert (user.is_staff, user.is_superuser) == (False, False)


def test_default_usernames_do_not_clash():
    first = User.objects.create_user("john@a.example", "x")
    second = User.objects.create_user("john@b.example", "x")
    third = User.objects.create_user("JOHN@c.example", "x")
    assert [first.username, second.username, third.username] == ["john", "john2", "JOHN3"]


def test_a_username_is_free_again_once_its_user_is_deleted():
    first = User.objects.create_user("john@a.example", "x")
    first.delete()
    assert User.objects.create_user("john@b.example", "x").username == "john"


def test_default_usernames_are_per_domain():
    site = DomainFactory()
    User.objects.create_user("john@a.example", "x")
    assert User.objects.create_user("john@b.example", "x", domain=site).username == "john"


def test_an_explicit_username_is_kept():
    UserFactory(username="john")
    assert User.objects.create_user("john@b.example", "x", username="johnny").username == "johnny"


def test_an_email_is_required():
    with pytest.raises(ValueError, match="An email is required"):
        User.objects.create_user("", "x")


def test_create_superuser():
    root = User.objects.create_superuser("root@example.com", "x", is_staff=False)
    assert (root.is_staff, root.is_superuser) == (True, True)


def test_natural_keys_look_on_the_default_domain():
    site = DomainFactory()
    other = UserFactory(email="twin@example.com", domain=site)
    mine = UserFactory(email="twin@example.com")
    assert User.objects.get_by_natural_key("TWIN@example.com") == mine
    assert other != mine
