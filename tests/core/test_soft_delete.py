"""Soft delete on Organization and User: hidden by default, visible through all_objects, restorable,
removable for good with hard_delete."""

import pytest

from apps.accounts.models import Membership, Organization, User
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["organization", "user"])
def rows(request):
    """Three rows of one soft-deletable model, and that model."""
    if request.param == "organization":
        return Organization, OrganizationFactory.create_batch(3)
    return User, UserFactory.create_batch(3)


def _ids(queryset):
    return set(queryset.values_list("pk", flat=True))


def test_instance_delete_hides_the_row(rows):
    model, (first, second, third) = rows
    assert first.delete() == (1, {model._meta.label: 1})

    assert first.is_deleted
    assert first.pk not in _ids(model.objects.all())
    assert {second.pk, third.pk} <= _ids(model.objects.all())
    assert first.pk in _ids(model.all_objects.all())
    stored = model.all_objects.get(pk=first.pk)
    assert stored.deleted_at is not None
    with pytest.raises(model.DoesNotExist):
        model.objects.get(pk=first.pk)


def test_deleting_twice_changes_nothing(rows):
    model, (first, *_) = rows
    first.delete()
    stamp = model.all_objects.get(pk=first.pk).deleted_at
    assert first.delete() == (0, {})
    assert model.all_objects.get(pk=first.pk).deleted_at == stamp


def test_queryset_delete_soft_deletes(rows):
    model, (first, second, third) = rows
    deleted = model.objects.filter(pk__in=[first.pk, second.pk]).delete()

    assert deleted == (2, {model._meta.label: 2})
    assert _ids(model.objects.filter(pk__in=[first.pk, second.pk, third.pk])) == {third.pk}
    assert _ids(model.all_objects.filter(pk__in=[first.pk, second.pk, third.pk])) == {first.pk, second.pk, third.pk}
    assert _ids(model.all_objects.dead()) >= {first.pk, second.pk}
    assert third.pk in _ids(model.all_objects.alive())


def test_restore_brings_rows_back(rows):
    model, (first, second, third) = rows
    model.objects.filter(pk__in=[first.pk, second.pk]).delete()

    first.refresh_from_db()
    first.restore()
    assert first.deleted_at is None
    assert first.pk in _ids(model.objects.all())

    assert model.all_objects.filter(pk=second.pk).restore() == 1
    assert {first.pk, second.pk, third.pk} <= _ids(model.objects.all())
    assert model.all_objects.filter(pk=second.pk).restore() == 0


def test_hard_delete_removes_rows(rows):
    model, (first, second, third) = rows
    first.hard_delete()
    assert not model.all_objects.filter(pk=first.pk).exists()

    second.delete()
    model.all_objects.filter(pk=second.pk).hard_delete()
    assert not model.all_objects.filter(pk=second.pk).exists()
    assert model.objects.filter(pk=third.pk).exists()


def test_related_lookups_follow_the_default_manager():
    membership = MembershipFactory()
    user, organization = membership.user, membership.organization
    assert list(user.organizations.all()) == [organization]
    organization.delete()
    assert list(user.organizations.all()) == []
    # The membership row stays, and so does the way back to its (deleted) organization.
    membership = Membership.objects.get(pk=membership.pk)
    assert membership.organization == organization
    assert membership.organization.is_deleted


def test_a_deleted_user_can_no_longer_sign_in(client):
    from tests.factories import PASSWORD

    user = UserFactory()
    user.delete()
    response = client.post("/api/v1/login/access-token", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert response.json() == {"detail": "Incorrect email or password"}
