"""Who may call the OCS text2image / textprocessing APIs: the OCS-APIRequest (CSRF) rule, each
credential (HTTP Basic with email or username and password or app password, Bearer token, API
session), anonymous callers on Nextcloud's public endpoints, and the app passwords themselves
(service, command, back office)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.accounts import services as accounts
from apps.accounts.models import ApiSession, AppPassword
from apps.text2image.models import TextProcessingTask
from tests.factories import PASSWORD, StaffFactory
from tests.text2image.ocs.support import (
    ARTICLE,
    OCS_HEADER,
    SUMMARY,
    TOPICS,
    app_password_for,
    basic,
    basic_for,
    bearer_for,
    ocs_json,
    session_for,
    url,
    v1_meta,
    v2_meta,
)

pytestmark = pytest.mark.django_db

GUEST_COOKIE = "ocs_guest"


def schedule_text(client, who=None, *, headers=OCS_HEADER, version=2, **values):
    payload = {"input": ARTICLE, "type": SUMMARY, "appId": "assistant", **values}
    return client.post(
        url(version, "textprocessing/schedule?format=json"), payload, format="json", **headers, **(who or {})
    )


# --- the OCS-APIRequest header (Nextcloud's CSRF check) ---------------------------------------------


ENDPOINTS = [
    ("get", "text2image/is_available"),
    ("post", "text2image/schedule"),
    ("get", "text2image/task/1"),
    ("post", "text2image/task/1"),
    ("get", "text2image/task/1/image/0"),
    ("delete", "text2image/task/1"),
    ("get", "text2image/tasks/app/assistant"),
    ("delete", "text2image/tasks/app/assistant"),
    ("get", "textprocessing/tasktypes"),
    ("post", "textprocessing/schedule"),
    ("get", "textprocessing/task/1"),
    ("post", "textprocessing/task/1"),
    ("delete", "textprocessing/task/1"),
    ("get", "textprocessing/tasks/app/assistant"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("version", [1, 2])
def test_without_the_ocs_header_or_a_bearer_token_every_endpoint_is_412_csrf_check_failed(
    client, user, method, path, version
):
    """As Nextcloud's security middleware answers: HTTP 412 with a JSON body, in v1 as in v2."""
    response = getattr(client, method)(url(version, path), **basic_for(user))
    assert response.status_code == 412
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"message": "CSRF check failed"}
    as_false = getattr(client, method)(url(version, path), HTTP_OCS_APIREQUEST="false", **basic_for(user))
    assert as_false.status_code == 412
    assert not TextProcessingTask.objects.exists()


def test_a_method_an_endpoint_does_not_have_is_405_even_without_the_header(client, user):
    response = client.generic("TRACE", url(2, "textprocessing/tasktypes?format=json"), **basic_for(user))
    assert response.status_code == 405
    assert ocs_json(response)["data"] == {"message": 'Method "TRACE" not allowed.'}
    assert client.put(url(2, "text2image/schedule?format=json"), **OCS_HEADER).status_code == 405


@pytest.mark.parametrize("version", [1, 2])
def test_a_bearer_token_needs_no_ocs_header(client, user, version):
    response = schedule_text(client, bearer_for(user), headers={}, version=version)
    assert response.status_code == 200
    assert ocs_json(response)["data"]["task"]["userId"] == user.username


def test_the_header_value_is_case_insensitive(client, user):
    assert schedule_text(client, basic_for(user), headers={"HTTP_OCS_APIREQUEST": "True"}).status_code == 200


# --- credentials ---------------------------------------------------------------------------------


def test_basic_with_the_email_or_the_username_and_the_password(client, user):
    for login in (user.email, user.email.upper(), user.username):
        task = ocs_json(schedule_text(client, basic(login)))["data"]["task"]
        assert task["userId"] == user.username


def test_basic_with_an_app_password(client, user):
    response = schedule_text(client, app_password_for(user))
    assert response.status_code == 200
    assert ocs_json(response)["data"]["task"]["userId"] == user.username
    assert AppPassword.objects.get().last_used_at is not None


def test_an_app_password_works_with_the_email_too_but_not_for_someone_else(client, user, other_user):
    _, secret = accounts.create_app_password(user=user)
    assert schedule_text(client, basic(user.email, secret)).status_code == 200
    refused = schedule_text(client, basic(other_user.email, secret))
    assert refused.status_code == 401
    assert ocs_json(refused) == {
        "meta": v2_meta(997, "Invalid username or password.") | {"statuscode": 997},
        "data": {"message": "Invalid username or password."},
    }


@pytest.mark.parametrize("version", [1, 2])
def test_a_revoked_or_expired_app_password_is_401(client, user, version):
    from django.utils import timezone

    revoked, revoked_secret = accounts.create_app_password(user=user)
    accounts.revoke_app_passwords(prefix=revoked.prefix)
    _, expired_secret = accounts.create_app_password(user=user, expires_at=timezone.now())
    for secret in (revoked_secret, expired_secret):
        response = schedule_text(client, basic(user.username, secret), version=version)
        assert response.status_code == 401  # v1 keeps 401, as Nextcloud does
        meta = ocs_json(response)["meta"]
        assert meta["statuscode"] == 997 and meta["message"] == "Invalid username or password."
    assert not TextProcessingTask.objects.exists()


def test_a_user_blocked_by_abuse_level_9_cannot_use_an_app_password(client, user):
    header = app_password_for(user)
    user.abuse_level = 9
    user.save(update_fields=["abuse_level"])
    assert schedule_text(client, header).status_code == 401


@pytest.mark.parametrize("version", [1, 2])
def test_a_wrong_password_is_401_statuscode_997(client, user, version):
    response = schedule_text(client, basic(user.email, "wrong"), version=version)
    assert response.status_code == 401
    ocs = ocs_json(response)
    expected = v1_meta if version == 1 else v2_meta
    assert ocs["meta"] == expected(997, "Invalid username or password.") | {"status": "failure", "statuscode": 997}
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_api_session_of_a_signed_in_user(client, user):
    task = ocs_json(schedule_text(client, session_for(user)))["data"]["task"]
    assert task["userId"] == user.username


def test_the_user_id_is_the_email_for_a_user_without_a_user_name(client, user):
    user.username = ""
    user.save(update_fields=["username"])
    assert ocs_json(schedule_text(client, basic_for(user)))["data"]["task"]["userId"] == user.email


# --- anonymous callers --------------------------------------------------------------------------


def test_public_endpoints_serve_anonymous_callers(client, ocs_model):
    assert client.get(url(2, "text2image/is_available?format=json"), **OCS_HEADER).status_code == 200
    assert client.get(url(2, "textprocessing/tasktypes?format=json"), **OCS_HEADER).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "text2image/task/1"),
        ("get", "text2image/tasks/app/assistant"),
        ("delete", "text2image/tasks/app/assistant"),
        ("delete", "textprocessing/task/1"),
        ("get", "textprocessing/tasks/app/assistant"),
    ],
)
@pytest.mark.parametrize("version", [1, 2])
def test_deleting_and_listing_need_a_signed_in_user(client, method, path, version):
    response = getattr(client, method)(url(version, f"{path}?format=json"), **OCS_HEADER)
    assert response.status_code == 401
    ocs = ocs_json(response)
    assert ocs["meta"]["statuscode"] == 997
    assert ocs["data"] == {"message": "You are not signed in."}
    guest = getattr(client, method)(url(version, f"{path}?format=json"), **OCS_HEADER, **session_for())
    assert guest.status_code == 401


def test_an_anonymous_task_belongs_to_its_client_through_a_guest_session_cookie(client):
    response = schedule_text(client)
    assert response.status_code == 200
    task = ocs_json(response)["data"]["task"]
    assert task["userId"] is None and task["status"] == 3
    cookie = response.cookies[GUEST_COOKIE]
    assert cookie["httponly"] and cookie["path"] == "/ocs/" and cookie["samesite"] == "Lax"
    session = ApiSession.objects.get(pk=cookie.value)
    assert session.user is None
    stored = TextProcessingTask.objects.get()
    assert (stored.owner, stored.guest_session) == (None, session)

    # The same client (the test client keeps the cookie) finds it again, with GET and POST...
    assert ocs_json(client.get(url(2, f"textprocessing/task/{task['id']}?format=json"), **OCS_HEADER))["data"] == {
        "task": task
    }
    assert client.post(url(1, f"textprocessing/task/{task['id']}?format=json"), **OCS_HEADER).status_code == 200
    # ...a second task reuses the same guest session (no new cookie)...
    again = schedule_text(client)
    assert GUEST_COOKIE not in again.cookies
    assert TextProcessingTask.objects.filter(guest_session=session).count() == 2

    # ...and nobody else does: another anonymous client, a forged cookie, a signed-in user.
    stranger = client.__class__(raise_request_exception=False)
    assert stranger.get(url(2, f"textprocessing/task/{task['id']}?format=json"), **OCS_HEADER).status_code == 404
    stranger.cookies[GUEST_COOKIE] = "00000000-0000-4000-8000-000000000000"
    assert stranger.get(url(2, f"textprocessing/task/{task['id']}?format=json"), **OCS_HEADER).status_code == 404
    stranger.cookies[GUEST_COOKIE] = "not-a-uuid"
    assert stranger.get(url(2, f"textprocessing/task/{task['id']}?format=json"), **OCS_HEADER).status_code == 404


def test_a_signed_in_users_session_id_in_the_cookie_is_not_a_guest_binding(client, user):
    session = accounts.create_session(domain=user.domain, user=user)
    client.cookies[GUEST_COOKIE] = str(session.pk)
    schedule_text(client)
    stored = TextProcessingTask.objects.get()
    assert stored.owner is None and stored.guest_session != session


def test_an_anonymous_client_with_a_guest_x_session_id_uses_that_session(client):
    headers = session_for()
    response = schedule_text(client, headers)
    assert GUEST_COOKIE not in response.cookies
    task = ocs_json(response)["data"]["task"]
    stored = TextProcessingTask.objects.get()
    assert str(stored.guest_session_id) == headers["HTTP_X_SESSION_ID"]
    fetched = client.get(url(2, f"textprocessing/task/{task['id']}?format=json"), **OCS_HEADER, **headers)
    assert ocs_json(fetched)["data"]["task"] == task


def test_anonymous_text2image_images_are_served_to_their_client_only(client, ocs_model):
    response = client.post(
        url(2, "text2image/schedule?format=json"),
        {"input": "a red fox", "appId": "assistant", "numberOfImages": 1},
        format="json",
        **OCS_HEADER,
    )
    task = ocs_json(response)["data"]["task"]
    assert (task["status"], task["userId"]) == (3, None)
    image = client.get(url(2, f"text2image/task/{task['id']}/image/0"), **OCS_HEADER)
    assert image.status_code == 200 and image["Content-Type"].startswith("image/")
    stranger = client.__class__(raise_request_exception=False)
    assert stranger.get(url(2, f"text2image/task/{task['id']}/image/0"), **OCS_HEADER).status_code == 404


def test_signed_in_users_do_not_see_anonymous_tasks(client, user):
    task = ocs_json(schedule_text(client))["data"]["task"]
    response = client.get(url(2, f"textprocessing/task/{task['id']}?format=json"), **OCS_HEADER, **basic_for(user))
    assert response.status_code == 404


# --- app passwords: service, command, back office -----------------------------------------------------


def test_app_passwords_are_stored_as_hashes(user):
    app_password, secret = accounts.create_app_password(user=user, name="Nextcloud on my phone")
    assert secret.startswith(app_password.prefix + ".")
    assert secret.split(".", 1)[1] not in app_password.secret_hash
    assert app_password.matches(secret.split(".", 1)[1])


def test_app_passwords_are_not_issued_to_inactive_users(user):
    from apps.core.errors import InvalidInput

    user.is_active = False
    user.save(update_fields=["is_active"])
    with pytest.raises(InvalidInput):
        accounts.create_app_password(user=user)


def test_the_commands_create_and_revoke_app_passwords(client, user):
    out, err = StringIO(), StringIO()
    call_command("create_app_password", email=user.email, name="laptop", stdout=out, stderr=err)
    secret = out.getvalue().strip()
    assert "It is shown once" in err.getvalue()
    assert schedule_text(client, basic(user.email, secret)).status_code == 200
    prefix = secret.split(".", 1)[0]
    out = StringIO()
    call_command("revoke_app_password", prefix=prefix, stdout=out)
    assert out.getvalue().strip() == "Revoked 1 app password(s)."
    assert schedule_text(client, basic(user.email, secret)).status_code == 401
    accounts.create_app_password(user=user)
    accounts.create_app_password(user=user)
    out = StringIO()
    call_command("revoke_app_password", email=user.email, stdout=out)
    assert out.getvalue().strip() == "Revoked 2 app password(s)."
    with pytest.raises(CommandError):
        call_command("revoke_app_password", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("create_app_password", email="nobody@example.com", stdout=StringIO(), stderr=StringIO())


def test_the_back_office_issues_and_revokes_app_passwords(user):
    from django.test import Client

    staff = StaffFactory(is_superuser=True)
    browser = Client()
    browser.login(username=staff.email, password=PASSWORD)
    response = browser.post(
        "/admin/accounts/apppassword/add/", {"user": str(user.pk), "name": "tablet", "expires_at": ""}, follow=True
    )
    assert response.status_code == 200
    app_password = AppPassword.objects.get()
    message = next(iter(response.context["messages"])).message
    secret = message.split("<code>")[1].split("</code>")[0]
    assert secret.startswith(app_password.prefix + ".")
    assert browser.get("/admin/accounts/apppassword/").status_code == 200
    response = browser.post(
        "/admin/accounts/apppassword/",
        {"action": "revoke", "_selected_action": [str(app_password.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    app_password.refresh_from_db()
    assert app_password.revoked_at is not None


def test_the_back_office_lists_and_deletes_ocs_tasks(client, user, ocs_model):
    from django.test import Client

    from apps.text2image.models import Text2ImageTask

    schedule_text(client, basic_for(user), type=TOPICS)
    client.post(
        url(2, "text2image/schedule?format=json"),
        {"input": "a fox", "appId": "assistant", "numberOfImages": 1},
        format="json",
        **OCS_HEADER,
        **basic_for(user),
    )
    staff = StaffFactory(is_superuser=True)
    browser = Client()
    browser.login(username=staff.email, password=PASSWORD)
    text_task = TextProcessingTask.objects.get()
    image_task = Text2ImageTask.objects.get()
    for path in (
        "/admin/text2image/textprocessingtask/",
        f"/admin/text2image/textprocessingtask/{text_task.pk}/change/",
        "/admin/text2image/text2imagetask/",
        f"/admin/text2image/text2imagetask/{image_task.pk}/change/",
    ):
        assert browser.get(path).status_code == 200, path
    for model, task in (("textprocessingtask", text_task), ("text2imagetask", image_task)):
        response = browser.post(
            f"/admin/text2image/{model}/", {"action": "delete_tasks", "_selected_action": [str(task.pk)]}, follow=True
        )
        assert response.status_code == 200
    assert not TextProcessingTask.objects.exists() and not Text2ImageTask.objects.exists()
