"""Staff roles: Django groups holding exactly the permissions apps/accounts/roles.py lists."""

import pytest
from django.contrib.auth.models import Group, Permission

from apps.accounts.roles import ROLE_PERMISSIONS, sync_roles
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def _perms(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_the_roles_exist_after_migrations_with_their_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= {"moderator", "support", "admin"}
    for role, perms in ROLE_PERMISSIONS.items():
        assert _perms(Group.objects.get(name=role)) == set(perms), role


def test_every_listed_permission_exists():
    existing = {f"{app}.{code}" for app, code in Permission.objects.values_list("content_type__app_label", "codename")}
    listed = {perm for perms in ROLE_PERMISSIONS.values() for perm in perms}
    assert listed - existing == set()


def test_sync_roles_is_idempotent():
    before = {role: _perms(Group.objects.get(name=role)) for role in ROLE_PERMISSIONS}
    group_count = Group.objects.count()
    sync_roles()
    sync_roles()
    assert Group.objects.count() == group_count
    assert {role: _perms(Group.objects.get(name=role)) for role in ROLE_PERMISSIONS} == before


def test_sync_roles_restores_exactly_the_listed_permissions():
    moderator = Group.objects.get(name="moderator")
    moderator.permissions.add(Permission.objects.get(codename="delete_user"))
    moderator.permissions.remove(Permission.objects.get(codename="moderate_user"))
    Group.objects.filter(name="support").delete()

    sync_roles()

    assert _perms(Group.objects.get(name="moderator")) == set(ROLE_PERMISSIONS["moderator"])
    assert _perms(Group.objects.get(name="support")) == set(ROLE_PERMISSIONS["support"])


def test_a_role_grants_its_permissions_to_members():
    user = StaffFactory()
    user.groups.add(Group.objects.get(name="moderator"))
    assert user.has_perm("accounts.moderate_user")
    assert not user.has_perm("accounts.change_user")
    support = StaffFactory()
    support.groups.add(Group.objects.get(name="support"))
    assert support.has_perm("accounts.view_user")
    assert not support.has_perm("accounts.moderate_user")
