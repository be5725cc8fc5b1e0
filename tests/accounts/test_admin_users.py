"""The user back office (search, filters, inlines, moderation actions) and the set_abuse_level
command: each goes through the same service as the AIMG endpoint."""

import base64
import io
import re
from io import StringIO
from unittest import mock

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from PIL import Image

from apps.accounts import services
from apps.accounts.models import AccessToken, ApiSession, User, UserKeyValue
from apps.core.domains import default_domain
from tests.factories import DomainFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _act(client, action, users):
    return client.post(
        USERS, {"action": action, "index": 0, ACTION_CHECKBOX_NAME: [str(u.pk) for u in users]}, follow=True
    )


def _listed(client, query: str) -> str:
    response = client.get(f"{USERS}?{query}")
    assert response.status_code == 200
    return response.content.decode()


def _picture() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 200)).save(buffer, "PNG")
    return f"data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}"


def _staff(role: str):
    staff = StaffFactory()
    staff.groups.add(Group.objects.get(name=role))
    return staff


@pytest.fixture
def root_client(client):
    client.force_login(StaffFactory(is_superuser=True, email="root@example.com"))
    return client


@pytest.fixture
def ada():
    return UserFactory(email="ada@example.com", username="lovelace")


# --- finding users ----------------------------------------------------------------------------------


def test_search_by_email_and_by_username(root_client, ada):
    UserFactory(email="grace@example.com", username="hopper")
    by_email = _listed(root_client, "q=ada%40example")
    by_username = _listed(root_client, "q=lovelace")
    assert "ada@example.com" in by_email and "grace@example.com" not in by_email
    assert "ada@example.com" in by_username and "grace@example.com" not in by_username


def test_filters_by_abuse_level_disabled_deleted_and_domain(root_client, ada):
    blocked = UserFactory(email="blocked@example.com")
    services.set_abuse_level(user=blocked, level=9)
    inactive = UserFactory(email="inactive@example.com", is_active=False)
    gone = UserFactory(email="gone@example.com")
    services.delete_user(user=gone)
    elsewhere = UserFactory(email="elsewhere@example.com", domain=DomainFactory())

    level_9 = _listed(root_client, "abuse_level__exact=9")
    assert blocked.email in level_9 and ada.email not in level_9
    disabled = _listed(root_client, "is_active__exact=0")
    assert inactive.email in disabled and ada.email not in disabled
    deleted = _listed(root_client, "state=deleted")
    assert gone.email in deleted and ada.email not in deleted
    by_domain = _listed(root_client, f"domain__id__exact={elsewhere.domain_id}")
    assert elsewhere.email in by_domain and ada.email not in by_domain


def test_the_change_page_shows_sessions_key_values_login_providers_and_the_picture(root_client, ada):
    live = services.create_session(domain=default_domain(), user=ada)
    revoked = services.create_session(domain=default_domain(), user=ada)
    services.revoke_session_ids(ids=[revoked.pk])
    services.set_key_value(user=ada, key="theme", value="dark")
    SocialAccount.objects.create(user=ada, provider="github", uid="octo-77")
    services.set_profile_picture(user=ada, data_uri=_picture())

    page = root_client.get(f"{USERS}{ada.pk}/change/").content.decode()

    assert str(live.pk) in page and str(revoked.pk) not in page
    assert "theme" in page and "dark" in page
    assert "octo-77" in page
    assert 'src="data:image/webp;base64,' in page


def test_the_change_form_still_saves_with_its_read_only_inlines(root_client, ada):
    services.create_session(domain=default_domain(), user=ada)
    services.set_key_value(user=ada, key="theme", value="dark")
    page = root_client.get(f"{USERS}{ada.pk}/change/").content.decode()
    management = dict(re.findall(r'name="([\w-]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"[^>]*value="(\d*)"', page))
    assert len(management) == 12  # three inlines, four counters each
    response = root_client.post(
        f"{USERS}{ada.pk}/change/",
        {
            "email": ada.email,
            "username": ada.username,
            "domain": str(ada.domain_id),
            "is_active": "on",
            "date_joined_0": "2025-01-01",
            "date_joined_1": "00:00:00",
            "additional_information": "Called support twice.",
            **management,
        },
    )
    assert response.status_code == 302
    stored = User.objects.get(pk=ada.pk)
    assert stored.additional_information == "Called support twice."
    assert UserKeyValue.objects.get(user=ada).value == "dark"
    assert ApiSession.objects.usable().filter(user=ada).count() == 1


# --- moderation actions -------------------------------------------------------------------------------


def test_abuse_level_actions_go_through_the_service(root_client, ada):
    other = UserFactory()
    services.create_session(domain=default_domain(), user=ada)
    services.issue_access_token(user=ada)
    kept = services.create_session(domain=default_domain(), user=other)

    with mock.patch("apps.accounts.services.set_abuse_level", wraps=services.set_abuse_level) as service:
        response = _act(root_client, "set_abuse_level_9", [ada])
    service.assert_called_once()
    assert service.call_args.kwargs["level"] == 9
    assert "Set the abuse level of 1 user(s) to 9." in _messages(response)
    assert User.objects.get(pk=ada.pk).abuse_level == 9
    assert not ApiSession.objects.usable().filter(user=ada).exists()
    assert not AccessToken.objects.usable().filter(user=ada).exists()
    assert ApiSession.objects.usable().filter(pk=kept.pk).exists()

    _act(root_client, "set_abuse_level_1", [ada, other])
    assert set(User.objects.filter(pk__in=[ada.pk, other.pk]).values_list("abuse_level", flat=True)) == {1}
    _act(root_client, "set_abuse_level_0", [ada])
    assert User.objects.get(pk=ada.pk).abuse_level == 0


def test_banning_the_picture_removes_it_and_lifting_the_ban_does_not_restore_it(root_client, ada):
    services.set_profile_picture(user=ada, data_uri=_picture())
    response = _act(root_client, "ban_profile_picture", [ada])
    assert "Banned (and removed) the profile picture of 1 user(s)." in _messages(response)
    stored = User.objects.get(pk=ada.pk)
    assert (stored.profile_picture_banned, stored.profile_picture) == (True, None)
    _act(root_client, "unban_profile_picture", [ada])
    stored = User.objects.get(pk=ada.pk)
    assert (stored.profile_picture_banned, stored.profile_picture) == (False, None)


def test_deleting_in_the_back_office_is_the_services_soft_delete(root_client, ada):
    services.create_session(domain=default_domain(), user=ada)
    with mock.patch("apps.accounts.services.delete_user", wraps=services.delete_user) as service:
        response = root_client.post(
            USERS, {"action": "delete_selected", "index": 0, ACTION_CHECKBOX_NAME: [str(ada.pk)], "post": "yes"}
        )
    assert response.status_code == 302
    service.assert_called_once_with(user=mock.ANY)
    assert User.all_objects.get(pk=ada.pk).is_deleted
    assert not ApiSession.objects.usable().filter(user=ada).exists()


def test_a_moderator_may_moderate_but_not_edit_or_deactivate(client, ada):
    client.force_login(_staff("moderator"))
    page = client.get(USERS).content.decode()
    assert "set_abuse_level_9" in page and "ban_profile_picture" in page and "revoke_all_sessions" in page
    assert 'value="deactivate"' not in page
    _act(client, "set_abuse_level_1", [ada])
    assert User.objects.get(pk=ada.pk).abuse_level == 1
    _act(client, "deactivate", [ada])
    assert User.objects.get(pk=ada.pk).is_active is True


def test_support_sees_users_but_cannot_moderate_them(client, ada):
    client.force_login(_staff("support"))
    page = client.get(USERS).content.decode()
    assert ada.email in page
    assert "set_abuse_level_9" not in page
    services.create_session(domain=default_domain(), user=ada)
    _act(client, "set_abuse_level_9", [ada])
    _act(client, "revoke_all_sessions", [ada])
    stored = User.objects.get(pk=ada.pk)
    assert stored.abuse_level == 0
    assert ApiSession.objects.usable().filter(user=ada).exists()


# --- set_abuse_level ------------------------------------------------------------------------------------


def _run(*args) -> str:
    out = StringIO()
    call_command("set_abuse_level", *args, stdout=out)
    return out.getvalue()


def test_the_command_sets_the_level_through_the_service(ada):
    services.create_session(domain=default_domain(), user=ada)
    with mock.patch("apps.accounts.services.set_abuse_level", wraps=services.set_abuse_level) as service:
        output = _run("--email", "ADA@example.com", "--level", "9")
    service.assert_called_once()
    assert output == "Abuse level of ada@example.com changed from 0 to 9.\n"
    assert User.objects.get(pk=ada.pk).abuse_level == 9
    assert not ApiSession.objects.usable().filter(user=ada).exists()
    assert _run("--email", "ada@example.com", "--level", "9") == "Abuse level of ada@example.com unchanged at 9.\n"


def test_the_command_finds_users_of_another_domain(ada):
    domain = DomainFactory(code="staging")
    twin = UserFactory(email="ada@example.com", domain=domain)
    _run("--email", "ada@example.com", "--level", "1", "--domain", "staging")
    assert User.objects.get(pk=twin.pk).abuse_level == 1
    assert User.objects.get(pk=ada.pk).abuse_level == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--email", "ada@example.com", "--level", "10"), "The abuse level must be a whole number from 0 to 9."),
        (("--email", "ada@example.com", "--level", "-1"), "The abuse level must be a whole number from 0 to 9."),
        (("--email", "nobody@example.com", "--level", "1"), "No user nobody@example.com on the domain"),
        (("--email", "ada@example.com", "--level", "1", "--domain", "nope"), "No domain with the code 'nope'."),
    ],
)
def test_the_command_refuses_bad_input(ada, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        _run(*args)
    assert User.objects.get(pk=ada.pk).abuse_level == 0
