"""The back office of identities: changelists answer, actions go through the services."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.utils import timezone

from apps.accounts import services
from apps.accounts.models import AccessToken, AdminKey, ApiSession, Organization, User
from apps.core.domains import default_domain
from tests.factories import DomainHostFactory, MembershipFactory, OrganizationFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(StaffFactory(is_superuser=True, email="root@example.com"))
    return client


@pytest.fixture
def some_of_everything():
    user = UserFactory()
    deleted = UserFactory()
    deleted.delete()
    services.create_session(domain=default_domain(), user=user)
    services.create_session(domain=default_domain())
    services.issue_access_token(user=user)
    expired, _ = services.issue_access_token(user=user)
    AccessToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    services.create_admin_key(user=StaffFactory())
    DomainHostFactory()
    MembershipFactory()
    gone = OrganizationFactory()
    gone.delete()


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _act(client, url, action, objects):
    return client.post(
        url, {"action": action, "index": 0, ACTION_CHECKBOX_NAME: [str(obj.pk) for obj in objects]}, follow=True
    )


@pytest.mark.usefixtures("some_of_everything")
@pytest.mark.parametrize(
    "url",
    [
        "/admin/accounts/user/",
        "/admin/accounts/user/?state=deleted",
        "/admin/accounts/user/?q=example.com",
        "/admin/accounts/apisession/",
        "/admin/accounts/accesstoken/",
        "/admin/accounts/adminkey/",
        "/admin/accounts/organization/",
        "/admin/accounts/organization/?state=live",
        "/admin/core/domain/",
        "/admin/accounts/accesstoken/add/",
        "/admin/accounts/adminkey/add/",
        "/admin/accounts/user/add/",
    ],
)
def test_pages_answer(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 200


def test_the_deleted_filter(admin_client):
    live, gone = UserFactory(email="live@example.com"), UserFactory(email="gone@example.com")
    gone.delete()
    everyone = admin_client.get("/admin/accounts/user/").content.decode()
    deleted_only = admin_client.get("/admin/accounts/user/?state=deleted").content.decode()
    live_only = admin_client.get("/admin/accounts/user/?state=live").content.decode()
    assert live.email in everyone and gone.email in everyone
    assert gone.email in deleted_only and live.email not in deleted_only
    assert live.email in live_only and gone.email not in live_only


def test_change_pages_answer(admin_client):
    user = UserFactory()
    organization = MembershipFactory(user=user).organization
    token, _ = services.issue_access_token(user=user)
    session = services.create_session(domain=default_domain(), user=user)
    for url in (
        f"/admin/accounts/user/{user.pk}/change/",
        f"/admin/accounts/organization/{organization.pk}/change/",
        f"/admin/accounts/accesstoken/{token.pk}/change/",
        f"/admin/accounts/apisession/{session.pk}/change/",
        f"/admin/core/domain/{default_domain().pk}/change/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_staff_without_permissions_are_kept_out(client):
    client.force_login(StaffFactory())
    assert client.get("/admin/accounts/user/").status_code == 403


def test_a_moderator_sees_users_but_cannot_change_them(client):
    from django.contrib.auth.models import Group

    moderator = StaffFactory()
    moderator.groups.add(Group.objects.get(name="moderator"))
    client.force_login(moderator)
    user = UserFactory()
    assert client.get("/admin/accounts/user/").status_code == 200
    response = client.post(f"/admin/accounts/user/{user.pk}/change/", {"email": "changed@example.com"})
    assert response.status_code == 403
    assert client.get("/admin/accounts/adminkey/").status_code == 403


# --- actions -------------------------------------------------------------------------------------


def test_revoke_tokens(admin_client):
    user = UserFactory()
    revoked, _ = services.issue_access_token(user=user)
    kept, _ = services.issue_access_token(user=user)
    response = _act(admin_client, "/admin/accounts/accesstoken/", "revoke", [revoked])
    assert response.status_code == 200
    assert "Revoked 1 token(s)." in _messages(response)
    assert list(AccessToken.objects.usable()) == [kept]


def test_revoke_admin_keys(admin_client):
    staff = StaffFactory()
    first, _ = services.create_admin_key(user=staff)
    second, _ = services.create_admin_key(user=staff)
    kept, _ = services.create_admin_key(user=staff)
    response = _act(admin_client, "/admin/accounts/adminkey/", "revoke", [first, second])
    assert "Revoked 2 key(s)." in _messages(response)
    assert list(AdminKey.objects.usable()) == [kept]


def test_revoke_sessions(admin_client):
    user = UserFactory()
    revoked = services.create_session(domain=default_domain(), user=user)
    kept = services.create_session(domain=default_domain(), user=user)
    response = _act(admin_client, "/admin/accounts/apisession/", "revoke", [revoked])
    assert "Revoked 1 session(s)." in _messages(response)
    assert list(ApiSession.objects.usable()) == [kept]


def test_sign_a_user_out_everywhere(admin_client):
    user, other = UserFactory(), UserFactory()
    for _ in range(2):
        services.create_session(domain=default_domain(), user=user)
    kept = services.create_session(domain=default_domain(), user=other)
    response = _act(admin_client, "/admin/accounts/user/", "revoke_all_sessions", [user])
    assert "Revoked 2 session(s)." in _messages(response)
    assert list(ApiSession.objects.usable()) == [kept]


def test_deactivate_users(admin_client):
    user, other = UserFactory(), UserFactory()
    response = _act(admin_client, "/admin/accounts/user/", "deactivate", [user])
    assert "Deactivated 1 user(s)." in _messages(response)
    assert User.objects.get(pk=user.pk).is_active is False
    assert User.objects.get(pk=other.pk).is_active is True


def test_restore_users(admin_client):
    user = UserFactory()
    user.delete()
    response = _act(admin_client, "/admin/accounts/user/", "restore_selected", [user])
    assert response.status_code == 200
    assert "Restored 1 row(s)." in _messages(response)
    assert User.objects.filter(pk=user.pk).exists()


def test_restoring_a_user_whose_email_was_taken_again_is_refused(admin_client):
    old = UserFactory(email="reused@example.com")
    old.delete()
    UserFactory(email="reused@example.com")
    response = _act(admin_client, "/admin/accounts/user/", "restore_selected", [old])
    assert response.status_code == 200
    assert _messages(response) == [
        "reused@example.com: Another user of this domain now has the email reused@example.com.",
        "Restored 0 row(s).",
    ]
    assert User.all_objects.get(pk=old.pk).is_deleted


def test_restore_organizations(admin_client):
    organization = OrganizationFactory()
    organization.delete()
    response = _act(admin_client, "/admin/accounts/organization/", "restore_selected", [organization])
    assert "Restored 1 row(s)." in _messages(response)
    assert Organization.objects.filter(pk=organization.pk).exists()


def test_delete_action_soft_deletes_organizations(admin_client):
    organization = OrganizationFactory()
    response = admin_client.post(
        "/admin/accounts/organization/",
        {"action": "delete_selected", "index": 0, ACTION_CHECKBOX_NAME: [str(organization.pk)], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert not Organization.objects.filter(pk=organization.pk).exists()
    assert Organization.all_objects.get(pk=organization.pk).is_deleted


# --- issuing secrets -----------------------------------------------------------------------------


def test_issue_a_token_in_the_back_office(admin_client):
    user = UserFactory()
    response = admin_client.post(
        "/admin/accounts/accesstoken/add/", {"user": str(user.pk), "name": "ci", "expires_at": ""}, follow=True
    )
    assert response.status_code == 200
    token = AccessToken.objects.get(user=user)
    shown = [m for m in _messages(response) if m.startswith("Token issued.")]
    assert len(shown) == 1
    secret = shown[0].split("<code>")[1].split("</code>")[0]
    assert secret.startswith(token.prefix + ".")
    assert token.matches(secret.partition(".")[2])


def test_issue_an_admin_key_in_the_back_office(admin_client):
    staff = StaffFactory()
    response = admin_client.post(
        "/admin/accounts/adminkey/add/", {"user": str(staff.pk), "name": "ops", "expires_at": ""}, follow=True
    )
    assert response.status_code == 200
    key = AdminKey.objects.get(user=staff)
    assert any(m.startswith("Admin key created.") and key.prefix in m for m in _messages(response))


def test_admin_keys_are_not_issued_to_non_staff_in_the_back_office(admin_client):
    user = UserFactory()
    response = admin_client.post("/admin/accounts/adminkey/add/", {"user": str(user.pk), "name": "x", "expires_at": ""})
    assert response.status_code == 200  # the form again, with the error
    assert "Administration keys are only issued to staff users." in response.content.decode()
    assert not AdminKey.objects.exists()


# --- user forms ----------------------------------------------------------------------------------


def _add_user(client, **fields):
    data = {
        "email": "new@example.com",
        "domain": str(default_domain().pk),
        "username": "newbie",
        "usable_password": "true",
        "password1": "Zebra-Tulip-492",
        "password2": "Zebra-Tulip-492",
    }
    return client.post("/admin/accounts/user/add/", data | fields)


def test_add_a_user(admin_client):
    response = _add_user(admin_client)
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert (user.username, user.domain) == ("newbie", default_domain())
    assert user.check_password("Zebra-Tulip-492")


def test_a_taken_email_is_a_form_error(admin_client):
    UserFactory(email="New@Example.com")
    response = _add_user(admin_client)
    assert response.status_code == 200
    assert "A user with this email already exists on this domain." in response.content.decode()
    assert User.objects.filter(email__iexact="new@example.com").count() == 1


def test_the_same_username_on_another_domain_is_fine(admin_client):
    from tests.factories import DomainFactory

    UserFactory(username="newbie", domain=DomainFactory())
    response = _add_user(admin_client)
    assert response.status_code == 302
    assert User.objects.filter(username="newbie").count() == 2


def test_a_taken_username_on_the_same_domain_is_a_form_error(admin_client):
    UserFactory(username="Newbie")
    response = _add_user(admin_client)
    assert response.status_code == 200
    assert "A user with this username already exists on this domain." in response.content.decode()


def test_changing_a_users_email_to_a_taken_one_is_a_form_error(admin_client):
    UserFactory(email="taken@example.com")
    user = UserFactory()
    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "email": "TAKEN@example.com",
            "username": user.username,
            "domain": str(user.domain_id),
            "is_active": "on",
            "date_joined_0": "2025-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 200
    assert "A user with this email already exists on this domain." in response.content.decode()
    user.refresh_from_db()
    assert user.email != "TAKEN@example.com"
