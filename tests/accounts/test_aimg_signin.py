"""AIMG sign-up and sign-in over HTTP: createUser, authenticateUser, signOutUser, requestOTP,
getSelfUser and generateStrongPassword, in the AIMG envelope."""

import base64
import json
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import services
from apps.accounts.api.aimg import signin as views
from apps.accounts.models import ApiSession, OneTimePassword, User
from apps.accounts.services.signin import CODE_REFUSED, CREDENTIAL_REQUIRED, CREDENTIALS_REFUSED, USERNAME_RULE
from apps.accounts.signals import guest_session_signed_in
from apps.accounts.tasks import purge_stale_otps
from apps.accounts.validators import SPEC_PATTERN
from apps.core.domains import default_domain
from config.settings.base import PASSWORD_HASHERS as PRODUCTION_HASHERS
from tests.factories import PASSWORD, DomainHostFactory, UserFactory

RATE_LIMITED = "Too many requests. Slow down and try again later."
BAD_SESSION_HEADER = "The X-Session-ID header must be a valid UUID."
BLOCKED = "This account cannot sign in."
EMAIL_REGISTERED = "An account with this email already exists. Sign in instead."
NEW_PASSWORD = "Qwerty123!Fox"
SELF_USER_KEYS = {
    "sessionID",
    "userID",
    "email",
    "username",
    "isAuthenticated",
    "isAtLeast18Confirmed",
    "tier",
    "merchantProcessor",
    "subscriptions",
    "itemCount",
    "rootFolderItemCount",
}

pytestmark = pytest.mark.django_db


def ok(payload) -> dict:
    return {"hasError": False, "errorMessage": None, "payload": payload}


def error(message: str) -> dict:
    return {"hasError": True, "errorMessage": message, "payload": None}


def session_header(session_id) -> dict:
    return {"HTTP_X_SESSION_ID": str(session_id)}


def limit_of(rate: str) -> int:
    return int(rate.split("/")[0])


def signed_in_user(user, session_id) -> dict:
    """The SelfUser of a signed-in user without tier, subscriptions or items."""
    return {
        "sessionID": str(session_id),
        "userID": str(user.pk),
        "email": user.email,
        "username": user.username,
        "isAuthenticated": True,
        "isAtLeast18Confirmed": user.is_at_least_18_confirmed,
        "tier": 0,
        "merchantProcessor": "",
        "subscriptions": [],
        "itemCount": 0,
        "rootFolderItemCount": 0,
    }


def guest(session_id, *, adult: bool = False) -> dict:
    return {
        "sessionID": str(session_id),
        "userID": "",
        "email": "",
        "username": "",
        "isAuthenticated": False,
        "isAtLeast18Confirmed": adult,
        "tier": 0,
        "merchantProcessor": "",
        "subscriptions": [],
        "itemCount": 0,
        "rootFolderItemCount": 0,
    }


def issue_code(email: str, domain=None) -> str:
    _, code = services.issue_otp(domain=domain or default_domain(), email=email)
    return code


def mailed_code(message) -> str:
    return re.search(r"^ {4}(\d{6})$", message.body, re.MULTILINE).group(1)


@pytest.fixture
def client():
    return APIClient(raise_request_exception=False)


@pytest.fixture
def user():
    return UserFactory(email="fox@example.com", username="fox")


@pytest.fixture
def guest_session():
    return services.create_session(domain=default_domain())


@pytest.fixture
def no_cooldown():
    with override_settings(OTP_RESEND_COOLDOWN=timedelta(0)):
        yield


@pytest.fixture
def distinct_codes(monkeypatch):
    """Codes are random; these tests need two that differ."""
    from apps.accounts.services import otp

    monkeypatch.setattr(otp, "_new_code", iter(["111111", "222222", "333333"]).__next__)


@pytest.fixture
def site():
    """A second site, with a front-end origin, reached through its own API host name."""
    host = DomainHostFactory(domain__frontend_origins=["https://app.fox.example"])
    return host.domain, {"HTTP_HOST": host.hostname}


@pytest.fixture
def signed_in_receiver():
    calls = []

    def receiver(sender, session, user, **kwargs):
        calls.append((session.pk, user.pk))

    guest_session_signed_in.connect(receiver)
    yield calls
    guest_session_signed_in.disconnect(receiver)


# --- getSelfUser -------------------------------------------------------------------------------------


class TestGetSelfUser:
    url = "/getSelfUser"

    def test_without_a_session_a_new_guest_session_is_returned(self, client):
        response = client.get(self.url, HTTP_USER_AGENT="FoxBrowser/1.0")
        assert response.status_code == 200
        payload = response.json()["payload"]
        session = ApiSession.objects.get()
        assert response.json() == ok(guest(session.pk))
        assert set(payload) == SELF_USER_KEYS
        assert session.user is None
        assert session.domain == default_domain()
        assert session.user_agent == "FoxBrowser/1.0"
        assert session.revoked_at is None

    def test_the_new_guest_session_identifies_later_requests(self, client):
        first = client.get(self.url).json()["payload"]["sessionID"]
        again = client.get(self.url, **session_header(first))
        assert again.json() == ok(guest(first))
        assert ApiSession.objects.count() == 1

    def test_a_signed_in_session_returns_its_user(self, client, user):
        session = services.create_session(domain=default_domain(), user=user)
        response = client.get(self.url, **session_header(session.pk))
        assert response.status_code == 200
        assert response.json() == ok(signed_in_user(user, session.pk))

    def test_a_revoked_session_gets_a_new_guest_session(self, client, user):
        session = services.create_session(domain=default_domain(), user=user)
        services.sign_out(session=session)
        payload = client.get(self.url, **session_header(session.pk)).json()["payload"]
        assert payload["sessionID"] != str(session.pk)
        assert payload == guest(payload["sessionID"])

    def test_a_guest_confirmation_is_remembered_on_the_session(self, client, guest_session):
        response = client.get(self.url, {"isAtLeast18Confirmed": "true"}, **session_header(guest_session.pk))
        assert response.json() == ok(guest(guest_session.pk, adult=True))
        again = client.get(self.url, **session_header(guest_session.pk))
        assert again.json()["payload"]["isAtLeast18Confirmed"] is True
        guest_session.refresh_from_db()
        assert guest_session.is_at_least_18_confirmed is True

    def test_a_users_confirmation_is_remembered_on_the_user(self, client, user):
        session = services.create_session(domain=default_domain(), user=user)
        response = client.get(self.url, {"isAtLeast18Confirmed": "true"}, **session_header(session.pk))
        assert response.json()["payload"]["isAtLeast18Confirmed"] is True
        user.refresh_from_db()
        assert user.is_at_least_18_confirmed is True

    def test_false_does_not_withdraw_a_confirmation(self, client, user):
        User.objects.filter(pk=user.pk).update(is_at_least_18_confirmed=True)
        session = services.create_session(domain=default_domain(), user=user)
        response = client.get(self.url, {"isAtLeast18Confirmed": "false"}, **session_header(session.pk))
        assert response.json()["payload"]["isAtLeast18Confirmed"] is True
        user.refresh_from_db()
        assert user.is_at_least_18_confirmed is True

    def test_the_profile_picture_is_returned_only_when_asked_for(self, client, user):
        User.objects.filter(pk=user.pk).update(profile_picture=b"RIFF\x00\x00\x00\x00WEBP")
        session = services.create_session(domain=default_domain(), user=user)
        plain = client.get(self.url, **session_header(session.pk)).json()["payload"]
        assert "profilePicture" not in plain
        with_picture = client.get(self.url, {"profilePicture": "true"}, **session_header(session.pk)).json()
        expected = "data:image/webp;base64," + base64.b64encode(b"RIFF\x00\x00\x00\x00WEBP").decode()
        assert with_picture["payload"] == plain | {"profilePicture": expected}

    def test_without_a_picture_the_picture_is_an_empty_string(self, client, guest_session):
        response = client.get(self.url, {"profilePicture": "1"}, **session_header(guest_session.pk))
        assert response.json() == ok(guest(guest_session.pk) | {"profilePicture": ""})

    def test_extended_price_info_is_accepted(self, client, user):
        session = services.create_session(domain=default_domain(), user=user)
        response = client.get(self.url, {"extendedPriceInfo": "true"}, **session_header(session.pk))
        assert response.json() == ok(signed_in_user(user, session.pk))

    @pytest.mark.parametrize("name", ["isAtLeast18Confirmed", "profilePicture", "extendedPriceInfo"])
    def test_a_query_flag_that_is_not_a_boolean_is_a_400(self, client, guest_session, name):
        response = client.get(self.url, {name: "maybe"}, **session_header(guest_session.pk))
        assert response.status_code == 400
        assert response.json() == error(f"{name}: Must be a valid boolean.")

    @pytest.mark.parametrize("value", ["not-a-uuid", "1234", "' OR 1=1 --"])
    def test_a_malformed_session_id_is_a_401(self, client, value):
        response = client.get(self.url, HTTP_X_SESSION_ID=value)
        assert response.status_code == 401
        assert response.json() == error(BAD_SESSION_HEADER)
        assert not ApiSession.objects.exists()

    def test_new_guest_sessions_are_rate_limited_per_address(self, client, monkeypatch, guest_session):
        monkeypatch.setattr(views, "GUEST_SESSION_RATE", "3/m")
        for _ in range(3):
            assert client.get(self.url, REMOTE_ADDR="203.0.113.9").status_code == 200
        refused = client.get(self.url, REMOTE_ADDR="203.0.113.9")
        assert refused.status_code == 429
        assert refused.json() == error(RATE_LIMITED)
        assert client.get(self.url, REMOTE_ADDR="203.0.113.10").status_code == 200
        # A request with a session creates nothing, so it is not limited.
        assert client.get(self.url, REMOTE_ADDR="203.0.113.9", **session_header(guest_session.pk)).status_code == 200

    def test_sessions_of_another_site_do_not_apply(self, client, user, site):
        _, host = site
        session = services.create_session(domain=default_domain(), user=user)
        payload = client.get(self.url, **session_header(session.pk), **host).json()["payload"]
        assert payload["isAuthenticated"] is False
        assert payload["sessionID"] != str(session.pk)


# --- requestOTP ----------------------------------------------------------------------------------------


class TestRequestOtp:
    url = "/requestOTP"

    @pytest.fixture
    def send(self, client, django_capture_on_commit_callbacks):
        def send(body, **extra):
            with django_capture_on_commit_callbacks(execute=True):
                return client.post(self.url, body, format="json", **extra)

        return send

    def test_a_code_and_a_magic_link_are_mailed(self, send, site):
        domain, host = site
        response = send({"email": "Vixen@Example.com"}, **host)
        assert response.status_code == 200
        assert response.json() == ok(
            {
                "success": True,
                "message": "A sign-in code is on its way to vixen@example.com. It works once, for 24 hours.",
            }
        )
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["vixen@example.com"]
        assert message.subject == f"Your sign-in code for {domain.name}"
        code = mailed_code(message)
        link = re.search(r"https://app\.fox\.example/\?b=([A-Za-z0-9_-]+)$", message.body, re.MULTILINE)
        assert link, message.body
        token = link.group(1)
        assert "=" not in token
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        assert decoded == {"email": "vixen@example.com", "otp": code}
        html, mime = message.alternatives[0]
        assert mime == "text/html"
        assert code in html
        assert f'href="https://app.fox.example/?b={token}"' in html

    def test_the_code_is_stored_only_as_a_keyed_hash(self, send):
        send({"email": "vixen@example.com"})
        code = mailed_code(mail.outbox[0])
        otp = OneTimePassword.objects.get()
        assert re.fullmatch(r"[0-9a-f]{64}", otp.code_hash)
        stored = [str(value) for value in OneTimePassword.objects.values().get().values()]
        assert not any(code in value for value in stored)
        assert abs(otp.expires_at - (otp.created_at + timedelta(hours=24))) < timedelta(seconds=5)
        with override_settings(SECRET_KEY="another-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"):
            assert services.consume_otp(domain=default_domain(), email="vixen@example.com", code=code) is False
        assert services.consume_otp(domain=default_domain(), email="vixen@example.com", code=code) is True

    def test_the_mail_task_never_carries_the_code_in_the_clear(self, send, monkeypatch):
        from apps.accounts import tasks

        sent_args = []
        original = tasks.send_otp_email.delay

        def spy(*args):
            sent_args.append(args)
            return original(*args)

        monkeypatch.setattr(tasks.send_otp_email, "delay", spy)
        send({"email": "vixen@example.com"})
        code = mailed_code(mail.outbox[0])
        ((otp_id, sealed),) = sent_args
        assert otp_id == str(OneTimePassword.objects.get().pk)
        assert re.fullmatch(r"\d{6}", sealed)
        assert sealed != code

    def test_the_magic_link_follows_the_spec_example(self, site):
        domain, _ = site
        link = services.magic_link(domain=domain, email="a@b.com", code="123456")
        assert link == "https://app.fox.example/?b=eyJlbWFpbCI6ImFAYi5jb20iLCJvdHAiOiIxMjM0NTYifQ"

    def test_a_site_without_a_front_end_gets_no_link(self, send):
        host = DomainHostFactory(domain__frontend_origins=[])
        assert send({"email": "vixen@example.com"}, HTTP_HOST=host.hostname).status_code == 200
        body = mail.outbox[0].body
        assert re.search(r"^ {4}\d{6}$", body, re.MULTILINE)
        assert "?b=" not in body
        assert "http" not in body
        assert "href" not in mail.outbox[0].alternatives[0][0]

    def test_an_unknown_email_gets_a_code_without_sign_up(self, send):
        assert send({"email": "new@example.com"}).status_code == 200
        assert len(mail.outbox) == 1
        assert not User.objects.filter(email="new@example.com").exists()

    def test_sign_up_with_a_new_email_gets_a_code(self, send):
        response = send({"email": "new@example.com", "signUp": True})
        assert response.status_code == 200
        assert OneTimePassword.objects.get().sign_up is True

    def test_sign_up_with_a_registered_email_is_a_409(self, send, user):
        response = send({"email": "FOX@example.com", "signUp": True})
        assert response.status_code == 409
        assert response.json() == error(EMAIL_REGISTERED)
        assert not mail.outbox
        assert not OneTimePassword.objects.exists()

    def test_a_registered_email_without_sign_up_gets_a_code(self, send, user):
        assert send({"email": "fox@example.com", "signUp": False}).status_code == 200
        assert len(mail.outbox) == 1

    def test_asking_again_within_the_cooldown_is_a_429(self, send):
        assert send({"email": "vixen@example.com"}).status_code == 200
        again = send({"email": "VIXEN@example.com"}, REMOTE_ADDR="198.51.100.2")
        assert again.status_code == 429
        message = again.json()["errorMessage"]
        assert re.fullmatch(
            r"A code was sent to this address moments ago\. Wait (\d+) seconds before asking for a new one\.", message
        )
        assert 1 <= int(re.search(r"\d+", message).group()) <= 60
        assert len(mail.outbox) == 1
        assert OneTimePassword.objects.count() == 1

    def test_after_the_cooldown_a_new_code_voids_the_old_one(self, send, client, distinct_codes):
        send({"email": "vixen@example.com"})
        OneTimePassword.objects.update(created_at=timezone.now() - timedelta(seconds=61))
        assert send({"email": "vixen@example.com"}).status_code == 200
        old, new = mailed_code(mail.outbox[0]), mailed_code(mail.outbox[1])
        assert (old, new) == ("111111", "222222")
        assert OneTimePassword.objects.filter(voided_at__isnull=False).count() == 1
        refused = client.post("/authenticateUser", {"email": "vixen@example.com", "otp": old}, format="json")
        assert refused.status_code == 401
        accepted = client.post("/authenticateUser", {"email": "vixen@example.com", "otp": new}, format="json")
        assert accepted.status_code == 200

    def test_codes_are_per_site(self, send, site, client):
        _, host = site
        send({"email": "vixen@example.com"}, **host)
        code = mailed_code(mail.outbox[0])
        elsewhere = client.post("/authenticateUser", {"email": "vixen@example.com", "otp": code}, format="json")
        assert elsewhere.status_code == 401
        here = client.post("/authenticateUser", {"email": "vixen@example.com", "otp": code}, format="json", **host)
        assert here.status_code == 200

    def test_requests_are_limited_per_email(self, send, no_cooldown):
        allowed = limit_of(views.REQUEST_OTP_RATE_PER_EMAIL)
        for n in range(allowed):
            email = "vixen@example.com" if n % 2 else "Vixen@EXAMPLE.com"
            assert send({"email": email}, REMOTE_ADDR=f"198.51.100.{n + 1}").status_code == 200
        refused = send({"email": "vixen@example.com"}, REMOTE_ADDR="198.51.100.200")
        assert refused.status_code == 429
        assert refused.json() == error(RATE_LIMITED)
        assert len(mail.outbox) == allowed

    def test_requests_are_limited_per_address(self, send):
        allowed = limit_of(views.REQUEST_OTP_RATE_PER_IP)
        for n in range(allowed):
            assert send({"email": f"fox{n}@example.com"}, REMOTE_ADDR="198.51.100.7").status_code == 200
        refused = send({"email": "other@example.com"}, REMOTE_ADDR="198.51.100.7")
        assert refused.status_code == 429
        assert refused.json() == error(RATE_LIMITED)
        assert send({"email": "other@example.com"}, REMOTE_ADDR="198.51.100.8").status_code == 200

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({}, "email: This field is required."),
            ({"email": "not-an-email"}, "email: Enter a valid email address."),
            ({"email": 42}, "email: Enter a valid email address."),
            ({"email": ["a@b.com"]}, "email: Enter a valid email address."),
            ({"email": "a@b.com", "signUp": "maybe"}, "signUp: Must be true or false."),
            ({"email": "a@b.com", "signUp": "true"}, "signUp: Must be true or false."),
        ],
    )
    def test_bad_input_is_a_400(self, send, body, message):
        response = send(body)
        assert response.status_code == 400
        assert response.json() == error(message)
        assert not mail.outbox

    def test_a_body_that_is_not_json_is_a_400(self, client):
        response = client.post(self.url, "{not json", content_type="application/json")
        assert response.status_code == 400
        assert response.json()["hasError"] is True

    def test_get_is_not_allowed(self, client):
        response = client.get(self.url)
        assert response.status_code == 405
        assert response.json()["hasError"] is True


class TestOtpMail:
    def test_a_voided_code_is_not_mailed(self, no_cooldown):
        from apps.accounts.services import otp as otp_service

        first, code = services.issue_otp(domain=default_domain(), email="vixen@example.com")
        services.issue_otp(domain=default_domain(), email="vixen@example.com")
        sealed = otp_service._seal(otp_id=first.pk, code=code)
        assert (
            services.send_otp_email(otp_id=str(first.pk), sealed_code=sealed) == "skipped: the code is no longer usable"
        )
        assert not mail.outbox

    def test_a_sealed_code_that_does_not_match_is_not_mailed(self):
        otp, code = services.issue_otp(domain=default_domain(), email="vixen@example.com")
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        assert (
            services.send_otp_email(otp_id=str(otp.pk), sealed_code=wrong) == "skipped: the sealed code does not match"
        )
        assert not mail.outbox

    def test_an_unknown_code_is_not_mailed(self):
        assert services.send_otp_email(otp_id=str(uuid.uuid4()), sealed_code="000000") == (
            "skipped: the code no longer exists"
        )

    def test_codes_are_six_digits(self):
        codes = [issue_code(f"fox{n}@example.com") for n in range(200)]
        assert all(re.fullmatch(r"\d{6}", code) for code in codes)
        assert len(set(codes)) > 190

    def test_stale_codes_are_purged(self):
        old, _ = services.issue_otp(domain=default_domain(), email="old@example.com")
        fresh, _ = services.issue_otp(domain=default_domain(), email="fresh@example.com")
        OneTimePassword.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=2))
        assert purge_stale_otps.delay().get() == 1
        assert list(OneTimePassword.objects.values_list("pk", flat=True)) == [fresh.pk]


# --- authenticateUser ----------------------------------------------------------------------------------


class TestAuthenticateUser:
    url = "/authenticateUser"

    def post(self, client, body, **extra):
        return client.post(self.url, body, format="json", **extra)

    def test_a_password_signs_in_and_rotates_the_session(self, client, user, guest_session, signed_in_receiver):
        response = self.post(
            client, {"email": "fox@example.com", "password": PASSWORD}, **session_header(guest_session.pk)
        )
        assert response.status_code == 200
        new_id = response.json()["payload"]["sessionID"]
        assert new_id != str(guest_session.pk)
        assert response.json() == ok(signed_in_user(user, new_id))
        assert set(response.json()["payload"]) == SELF_USER_KEYS
        # The old id no longer authenticates: it is a stranger again.
        old = client.get("/getSelfUser", **session_header(guest_session.pk)).json()["payload"]
        assert old["isAuthenticated"] is False
        assert old["sessionID"] not in (str(guest_session.pk), new_id)
        assert client.get("/getSelfUser", **session_header(new_id)).json() == ok(signed_in_user(user, new_id))
        guest_session.refresh_from_db()
        assert guest_session.revoked_at is not None
        assert signed_in_receiver == [(guest_session.pk, user.pk)]
        user.refresh_from_db()
        assert (user.has_signed_in_with_password, user.has_signed_in_with_otp) == (True, False)
        assert user.last_login is not None

    def test_without_a_session_a_signed_in_session_is_made(self, client, user):
        response = self.post(client, {"email": "FOX@Example.com", "password": PASSWORD})
        assert response.status_code == 200
        session = ApiSession.objects.get(pk=response.json()["payload"]["sessionID"])
        assert session.user == user
        assert session.domain == default_domain()

    def test_a_code_signs_in_once(self, client, user):
        code = issue_code("fox@example.com")
        response = self.post(client, {"email": "fox@example.com", "otp": code})
        assert response.status_code == 200
        assert response.json() == ok(signed_in_user(user, response.json()["payload"]["sessionID"]))
        user.refresh_from_db()
        assert (user.has_signed_in_with_password, user.has_signed_in_with_otp) == (False, True)
        assert OneTimePassword.objects.get().consumed_at is not None
        again = self.post(client, {"email": "fox@example.com", "otp": code})
        assert again.status_code == 401
        assert again.json() == error(CODE_REFUSED)

    def test_an_unknown_email_with_a_code_creates_the_user(self, client, guest_session):
        code = issue_code("newbie@example.com")
        body = {"email": "newbie@example.com", "otp": code, "isAtLeast18Confirmed": True}
        response = self.post(client, body, **session_header(guest_session.pk))
        assert response.status_code == 200
        user = User.objects.get(email="newbie@example.com")
        assert user.domain == default_domain()
        assert user.username == "newbie"
        assert user.has_usable_password() is False
        assert (user.has_signed_in_with_otp, user.is_at_least_18_confirmed) == (True, True)
        assert response.json() == ok(signed_in_user(user, response.json()["payload"]["sessionID"]))

    def test_an_unknown_email_with_a_code_and_a_password_gets_that_password(self, client):
        code = issue_code("newbie@example.com")
        response = self.post(client, {"email": "newbie@example.com", "otp": code, "password": NEW_PASSWORD})
        assert response.status_code == 200
        user = User.objects.get(email="newbie@example.com")
        assert user.check_password(NEW_PASSWORD)
        assert (user.has_signed_in_with_otp, user.has_signed_in_with_password) == (True, True)

    def test_a_new_users_password_must_follow_the_rule_and_the_code_stays_usable(self, client):
        code = issue_code("newbie@example.com")
        response = self.post(client, {"email": "newbie@example.com", "otp": code, "password": "short"})
        assert response.status_code == 400
        assert response.json()["errorMessage"].startswith("password: The password must be at least 8 characters long")
        assert not User.objects.filter(email="newbie@example.com").exists()
        assert self.post(client, {"email": "newbie@example.com", "otp": code}).status_code == 200

    def test_an_unknown_email_with_only_a_password_is_a_401(self, client):
        response = self.post(client, {"email": "nobody@example.com", "password": NEW_PASSWORD})
        assert response.status_code == 401
        assert response.json() == error(CREDENTIALS_REFUSED)
        assert not User.objects.exists()

    def test_a_wrong_password_is_a_401(self, client, user, guest_session):
        response = self.post(
            client, {"email": "fox@example.com", "password": "Wrong!Passw0rd"}, **session_header(guest_session.pk)
        )
        assert response.status_code == 401
        assert response.json() == error(CREDENTIALS_REFUSED)
        guest_session.refresh_from_db()
        assert guest_session.revoked_at is None
        assert ApiSession.objects.filter(user=user).count() == 0

    def test_a_user_without_a_password_cannot_sign_in_with_one(self, client):
        UserFactory(email="otponly@example.com", password=None)
        response = self.post(client, {"email": "otponly@example.com", "password": NEW_PASSWORD})
        assert response.status_code == 401
        assert response.json() == error(CREDENTIALS_REFUSED)

    def test_a_wrong_code_is_a_401_and_counts_as_a_try(self, client, user):
        code = issue_code("fox@example.com")
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        response = self.post(client, {"email": "fox@example.com", "otp": wrong})
        assert response.status_code == 401
        assert response.json() == error(CODE_REFUSED)
        otp = OneTimePassword.objects.get()
        assert (otp.failed_attempts, otp.consumed_at) == (1, None)

    def test_a_code_survives_four_wrong_tries(self, client, user):
        code = issue_code("fox@example.com")
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(4):
            assert self.post(client, {"email": "fox@example.com", "otp": wrong}).status_code == 401
        assert self.post(client, {"email": "fox@example.com", "otp": code}).status_code == 200
        otp = OneTimePassword.objects.get()
        assert (otp.failed_attempts, otp.consumed_at is not None) == (4, True)

    def test_a_code_does_not_survive_five_wrong_tries(self, client, user):
        code = issue_code("fox@example.com")
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(5):
            assert self.post(client, {"email": "fox@example.com", "otp": wrong}).status_code == 401
        refused = self.post(client, {"email": "fox@example.com", "otp": code})
        assert refused.status_code == 401
        assert refused.json() == error(CODE_REFUSED)
        otp = OneTimePassword.objects.get()
        assert (otp.failed_attempts, otp.consumed_at) == (5, None)

    @override_settings(OTP_MAX_ATTEMPTS=2)
    def test_the_number_of_tries_comes_from_the_settings(self, client, user):
        code = issue_code("fox@example.com")
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(2):
            self.post(client, {"email": "fox@example.com", "otp": wrong})
        assert self.post(client, {"email": "fox@example.com", "otp": code}).status_code == 401

    def test_an_expired_code_is_a_401(self, client, user):
        code = issue_code("fox@example.com")
        OneTimePassword.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        response = self.post(client, {"email": "fox@example.com", "otp": code})
        assert response.status_code == 401
        assert response.json() == error(CODE_REFUSED)

    def test_a_newer_code_voids_the_older_one(self, client, user, no_cooldown, distinct_codes):
        older = issue_code("fox@example.com")
        newer = issue_code("fox@example.com")
        assert older != newer
        assert self.post(client, {"email": "fox@example.com", "otp": older}).status_code == 401
        assert self.post(client, {"email": "fox@example.com", "otp": newer}).status_code == 200

    def test_password_and_code_together_must_both_be_right(self, client, user):
        code = issue_code("fox@example.com")
        wrong_password = self.post(client, {"email": "fox@example.com", "otp": code, "password": "Wrong!Passw0rd"})
        assert wrong_password.status_code == 401
        assert wrong_password.json() == error(CREDENTIALS_REFUSED)
        assert OneTimePassword.objects.get().consumed_at is None
        both = self.post(client, {"email": "fox@example.com", "otp": code, "password": PASSWORD})
        assert both.status_code == 200
        user.refresh_from_db()
        assert (user.has_signed_in_with_password, user.has_signed_in_with_otp) == (True, True)

    @pytest.mark.parametrize("credential", ["password", "otp"])
    def test_abuse_level_9_cannot_sign_in(self, client, user, guest_session, credential):
        User.objects.filter(pk=user.pk).update(abuse_level=9)
        body = {"email": "fox@example.com", "password": PASSWORD}
        if credential == "otp":
            body = {"email": "fox@example.com", "otp": issue_code("fox@example.com")}
        response = self.post(client, body, **session_header(guest_session.pk))
        assert response.status_code == 403
        assert response.json() == error(BLOCKED)
        assert not ApiSession.objects.filter(user=user).exists()
        guest_session.refresh_from_db()
        assert guest_session.revoked_at is None

    def test_a_blocked_account_with_a_wrong_password_is_just_a_401(self, client, user):
        User.objects.filter(pk=user.pk).update(abuse_level=9)
        response = self.post(client, {"email": "fox@example.com", "password": "Wrong!Passw0rd"})
        assert response.status_code == 401
        assert response.json() == error(CREDENTIALS_REFUSED)

    def test_a_deactivated_account_cannot_sign_in(self, client, user):
        User.objects.filter(pk=user.pk).update(is_active=False)
        response = self.post(client, {"email": "fox@example.com", "password": PASSWORD})
        assert response.status_code == 403
        assert response.json() == error(BLOCKED)

    def test_a_user_of_another_site_is_unknown_here(self, client, site):
        domain, host = site
        UserFactory(email="elsewhere@example.com", domain=domain)
        assert self.post(client, {"email": "elsewhere@example.com", "password": PASSWORD}).status_code == 401
        assert self.post(client, {"email": "elsewhere@example.com", "password": PASSWORD}, **host).status_code == 200

    def test_the_confirmation_is_recorded_and_a_guests_carries_over(self, client, user, guest_session):
        client.get("/getSelfUser", {"isAtLeast18Confirmed": "true"}, **session_header(guest_session.pk))
        response = self.post(
            client, {"email": "fox@example.com", "password": PASSWORD}, **session_header(guest_session.pk)
        )
        assert response.json()["payload"]["isAtLeast18Confirmed"] is True
        other = UserFactory(email="wolf@example.com")
        body = {"email": "wolf@example.com", "password": PASSWORD, "isAtLeast18Confirmed": True}
        assert self.post(client, body).json()["payload"]["isAtLeast18Confirmed"] is True
        other.refresh_from_db()
        assert other.is_at_least_18_confirmed is True

    def test_neither_password_nor_code_is_a_400(self, client, user):
        for body in ({"email": "fox@example.com"}, {"email": "fox@example.com", "password": "", "otp": None}):
            response = self.post(client, body)
            assert response.status_code == 400
            assert response.json() == error(CREDENTIAL_REQUIRED)

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"password": PASSWORD}, "email: This field is required."),
            ({"email": 42, "password": PASSWORD}, "email: Enter a valid email address."),
            ({"email": "fox@example.com", "password": 12345678}, "password: Must be a string."),
            ({"email": "fox@example.com", "otp": 123456}, "otp: Must be a string."),
            ({"email": "fox@example.com", "otp": "12ab56"}, "otp: The one-time code is 6 digits."),
            ({"email": "fox@example.com", "otp": "1234567"}, "otp: The one-time code is 6 digits."),
            (
                {"email": "fox@example.com", "password": PASSWORD, "isAtLeast18Confirmed": "maybe"},
                "isAtLeast18Confirmed: Must be a valid boolean.",
            ),
        ],
    )
    def test_bad_input_is_a_400(self, client, user, body, message):
        response = self.post(client, body)
        assert response.status_code == 400
        assert response.json() == error(message)

    def test_a_json_array_body_is_a_400(self, client):
        response = self.post(client, [{"email": "fox@example.com"}])
        assert response.status_code == 400
        assert response.json()["hasError"] is True

    def test_a_malformed_session_id_is_a_401(self, client, user):
        response = self.post(client, {"email": "fox@example.com", "password": PASSWORD}, HTTP_X_SESSION_ID="nope")
        assert response.status_code == 401
        assert response.json() == error(BAD_SESSION_HEADER)

    def test_tries_are_limited_per_email(self, client, user):
        allowed = limit_of(views.AUTHENTICATE_RATE_PER_EMAIL)
        for n in range(allowed):
            body = {"email": "fox@example.com" if n % 2 else "FOX@example.com", "password": "Wrong!Passw0rd"}
            assert self.post(client, body, REMOTE_ADDR=f"198.51.100.{n + 1}").status_code == 401
        refused = self.post(client, {"email": "fox@example.com", "password": PASSWORD}, REMOTE_ADDR="198.51.100.250")
        assert refused.status_code == 429
        assert refused.json() == error(RATE_LIMITED)

    def test_tries_are_limited_per_address(self, client, user):
        allowed = limit_of(views.AUTHENTICATE_RATE_PER_IP)
        for n in range(allowed):
            body = {"email": f"nobody{n}@example.com", "password": "Wrong!Passw0rd"}
            assert self.post(client, body, REMOTE_ADDR="198.51.100.7").status_code == 401
        body = {"email": "fox@example.com", "password": PASSWORD}
        refused = self.post(client, body, REMOTE_ADDR="198.51.100.7")
        assert refused.status_code == 429
        assert refused.json() == error(RATE_LIMITED)
        assert self.post(client, body, REMOTE_ADDR="198.51.100.8").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_code_signs_in_exactly_once_under_concurrency():
    threads = 8
    user = UserFactory(email="fox@example.com")
    code = issue_code("fox@example.com")
    barrier = threading.Barrier(threads)

    def attempt(n: int) -> int:
        try:
            client = APIClient(raise_request_exception=False)
            barrier.wait(timeout=30)
            body = {"email": "fox@example.com", "otp": code}
            return client.post("/authenticateUser", body, format="json", REMOTE_ADDR=f"198.51.100.{n + 1}").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        statuses = list(pool.map(attempt, range(threads)))
    assert sorted(statuses) == [200] + [401] * (threads - 1)
    assert ApiSession.objects.filter(user=user).count() == 1
    assert OneTimePassword.objects.get().consumed_at is not None


# --- createUser ----------------------------------------------------------------------------------------


class TestCreateUser:
    url = "/createUser"

    def post(self, client, body, **extra):
        return client.post(self.url, body, format="json", **extra)

    def test_a_password_creates_a_signed_in_user(self, client):
        body = {
            "email": "Newbie@Example.com",
            "username": "newbie",
            "password": NEW_PASSWORD,
            "isAtLeast18Confirmed": True,
            "refList": ["https://search.example/?q=fox", "https://blog.example/"],
            "rs": "partner-7",
        }
        response = self.post(client, body, HTTP_USER_AGENT="FoxBrowser/2.0")
        assert response.status_code == 200
        user = User.objects.get()
        session = ApiSession.objects.get()
        assert response.json() == ok(signed_in_user(user, session.pk))
        assert set(response.json()["payload"]) == SELF_USER_KEYS
        assert (session.user, session.domain, session.user_agent) == (user, default_domain(), "FoxBrowser/2.0")
        assert user.email == "Newbie@example.com"
        assert user.username == "newbie"
        assert user.domain == default_domain()
        assert user.check_password(NEW_PASSWORD)
        assert user.ref_list == ["https://search.example/?q=fox", "https://blog.example/"]
        assert user.referrer == "partner-7"
        assert user.is_at_least_18_confirmed is True
        assert (user.has_signed_in_with_password, user.has_signed_in_with_otp) == (True, False)

    def test_a_code_creates_a_user_without_a_password(self, client):
        code = issue_code("newbie@example.com")
        response = self.post(client, {"email": "newbie@example.com", "otp": code})
        assert response.status_code == 200
        user = User.objects.get()
        assert response.json() == ok(signed_in_user(user, response.json()["payload"]["sessionID"]))
        assert user.username == "newbie"
        assert user.has_usable_password() is False
        assert (user.has_signed_in_with_password, user.has_signed_in_with_otp) == (False, True)
        assert user.ref_list == []
        assert OneTimePassword.objects.get().consumed_at is not None

    def test_a_guest_session_is_rotated_and_its_belongings_move(self, client, guest_session, signed_in_receiver):
        client.get("/getSelfUser", {"isAtLeast18Confirmed": "true"}, **session_header(guest_session.pk))
        response = self.post(
            client, {"email": "newbie@example.com", "password": NEW_PASSWORD}, **session_header(guest_session.pk)
        )
        assert response.status_code == 200
        payload = response.json()["payload"]
        assert payload["sessionID"] != str(guest_session.pk)
        assert payload["isAtLeast18Confirmed"] is True
        user = User.objects.get()
        assert signed_in_receiver == [(guest_session.pk, user.pk)]
        old = client.get("/getSelfUser", **session_header(guest_session.pk)).json()["payload"]
        assert old["isAuthenticated"] is False
        assert old["sessionID"] != str(guest_session.pk)
        assert client.get("/getSelfUser", **session_header(payload["sessionID"])).json()["payload"]["userID"] == str(
            user.pk
        )

    def test_a_registered_email_is_a_409(self, client, user):
        response = self.post(client, {"email": "FOX@example.com", "password": NEW_PASSWORD})
        assert response.status_code == 409
        assert response.json() == error(EMAIL_REGISTERED)
        assert User.objects.count() == 1

    def test_the_email_of_a_deleted_user_is_free(self, client, user):
        user.delete()
        assert self.post(client, {"email": "fox@example.com", "password": NEW_PASSWORD}).status_code == 200

    def test_the_same_email_on_another_site_is_a_separate_account(self, client, user, site):
        domain, host = site
        response = self.post(client, {"email": "fox@example.com", "password": NEW_PASSWORD}, **host)
        assert response.status_code == 200
        assert User.objects.filter(email="fox@example.com", domain=domain).exists()

    def test_a_taken_username_is_a_409(self, client, user):
        response = self.post(client, {"email": "newbie@example.com", "username": "FOX", "password": NEW_PASSWORD})
        assert response.status_code == 409
        assert response.json() == error("The username 'FOX' is already taken.")
        assert User.objects.count() == 1

    def test_an_automatic_username_avoids_taken_ones(self, client, user):
        assert self.post(client, {"email": "fox@other.example", "password": NEW_PASSWORD}).status_code == 200
        assert User.objects.get(email="fox@other.example").username == "fox2"

    @pytest.mark.parametrize(
        ("password", "message"),
        [
            (
                "abcdefgh",
                "password: The password must contain an uppercase letter (A-Z), contain a digit (0-9), contain a "
                "special character (!@#$%^&*()_+-=[]{};':\"\\|,.<>/?).; password: This password is too common.",
            ),
            ("Zq!9xw", "password: The password must be at least 8 characters long."),
            ("P@ssw0rd", "password: This password is too common."),
            ("Newbie.Fox1", "password: The password is too similar to the email."),
        ],
    )
    def test_a_password_breaking_the_rule_is_a_400(self, client, password, message):
        body = {"email": "newbie.fox@example.com", "username": "pinecone", "password": password}
        response = self.post(client, body)
        assert response.status_code == 400
        assert response.json() == error(message)
        assert not User.objects.exists()

    def test_neither_password_nor_code_is_a_400(self, client):
        response = self.post(client, {"email": "newbie@example.com", "username": "newbie"})
        assert response.status_code == 400
        assert response.json() == error(CREDENTIAL_REQUIRED)

    def test_a_wrong_code_is_a_401(self, client):
        code = issue_code("newbie@example.com")
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        response = self.post(client, {"email": "newbie@example.com", "otp": wrong})
        assert response.status_code == 401
        assert response.json() == error(CODE_REFUSED)
        assert not User.objects.exists()
        assert OneTimePassword.objects.get().failed_attempts == 1

    def test_a_code_of_another_email_is_a_401(self, client):
        code = issue_code("someone@example.com")
        response = self.post(client, {"email": "newbie@example.com", "otp": code})
        assert response.status_code == 401
        assert not User.objects.exists()

    @pytest.mark.parametrize("username", ["two words", "fox@den", "fox/den", "x" * 151])
    def test_a_bad_username_is_a_400(self, client, username):
        response = self.post(client, {"email": "newbie@example.com", "username": username, "password": NEW_PASSWORD})
        assert response.status_code == 400
        assert response.json()["hasError"] is True
        assert response.json()["errorMessage"].startswith("username: ")
        assert not User.objects.exists()

    def test_the_username_rule_is_explained(self, client):
        response = self.post(client, {"email": "newbie@example.com", "username": "fox den", "password": NEW_PASSWORD})
        assert response.json() == error(f"username: {USERNAME_RULE}")

    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            (
                {"refList": "https://a.example,https://b.example"},
                'refList: Expected a list of items but got type "str".',
            ),
            ({"refList": [1, 2]}, "refList.0: Must be a string.; refList.1: Must be a string."),
            ({"rs": 7}, "rs: Must be a string."),
            ({"username": ["fox"]}, "username: Must be a string."),
            ({"isAtLeast18Confirmed": "maybe"}, "isAtLeast18Confirmed: Must be a valid boolean."),
            ({"email": None}, "email: This field may not be null."),
        ],
    )
    def test_wrong_types_are_a_400(self, client, extra, message):
        response = self.post(client, {"email": "newbie@example.com", "password": NEW_PASSWORD} | extra)
        assert response.status_code == 400
        assert response.json() == error(message)
        assert not User.objects.exists()

    def test_optional_fields_may_be_null(self, client):
        body = {
            "email": "newbie@example.com",
            "password": NEW_PASSWORD,
            "username": None,
            "otp": None,
            "isAtLeast18Confirmed": None,
            "refList": None,
            "rs": None,
        }
        assert self.post(client, body).status_code == 200
        user = User.objects.get()
        assert (user.username, user.ref_list, user.referrer, user.is_at_least_18_confirmed) == ("newbie", [], "", False)

    def test_a_malformed_session_id_is_a_401(self, client):
        response = self.post(client, {"email": "newbie@example.com", "password": NEW_PASSWORD}, HTTP_X_SESSION_ID="x")
        assert response.status_code == 401
        assert response.json() == error(BAD_SESSION_HEADER)
        assert not User.objects.exists()

    def test_sign_ups_are_limited_per_address(self, client):
        allowed = limit_of(views.CREATE_USER_RATE_PER_IP)
        for n in range(allowed):
            body = {"email": f"newbie{n}@example.com", "password": NEW_PASSWORD}
            assert self.post(client, body, REMOTE_ADDR="198.51.100.7").status_code == 200
        refused = self.post(client, {"email": "late@example.com", "password": NEW_PASSWORD}, REMOTE_ADDR="198.51.100.7")
        assert refused.status_code == 429
        assert refused.json() == error(RATE_LIMITED)

    def test_passwords_are_hashed_with_argon2_in_production(self, client):
        with override_settings(PASSWORD_HASHERS=PRODUCTION_HASHERS):
            assert self.post(client, {"email": "newbie@example.com", "password": NEW_PASSWORD}).status_code == 200
            user = User.objects.get()
            assert user.password.startswith("argon2$argon2id$")
            assert NEW_PASSWORD not in user.password
            assert user.check_password(NEW_PASSWORD)


# --- signOutUser ---------------------------------------------------------------------------------------


class TestSignOutUser:
    url = "/signOutUser"

    def test_signing_out_revokes_the_session(self, client, user):
        session = services.create_session(domain=default_domain(), user=user)
        other = services.create_session(domain=default_domain(), user=user)
        response = client.post(self.url, **session_header(session.pk))
        assert response.status_code == 200
        assert response.json() == ok({"success": True, "message": "You are signed out."})
        session.refresh_from_db()
        assert session.revoked_at is not None
        after = client.get("/getSelfUser", **session_header(session.pk)).json()["payload"]
        assert (after["isAuthenticated"], after["sessionID"] == str(session.pk)) == (False, False)
        # Only this session: the user's other sessions stay signed in.
        other.refresh_from_db()
        assert other.revoked_at is None

    def test_without_a_session_there_is_nothing_to_sign_out_of(self, client):
        response = client.post(self.url)
        assert response.status_code == 200
        assert response.json() == ok({"success": False, "message": "There was no session to sign out of."})

    def test_signing_out_twice(self, client, user):
        session = services.create_session(domain=default_domain(), user=user)
        assert client.post(self.url, **session_header(session.pk)).json()["payload"]["success"] is True
        again = client.post(self.url, **session_header(session.pk))
        assert again.json() == ok({"success": False, "message": "There was no session to sign out of."})

    def test_an_unknown_session_is_nothing_to_sign_out_of(self, client):
        response = client.post(self.url, **session_header(uuid.uuid4()))
        assert response.json()["payload"]["success"] is False

    def test_a_guest_session_can_be_ended(self, client, guest_session):
        assert client.post(self.url, **session_header(guest_session.pk)).json()["payload"]["success"] is True
        guest_session.refresh_from_db()
        assert guest_session.revoked_at is not None

    def test_a_malformed_session_id_is_a_401(self, client):
        response = client.post(self.url, HTTP_X_SESSION_ID="not-a-uuid")
        assert response.status_code == 401
        assert response.json() == error(BAD_SESSION_HEADER)


# --- generateStrongPassword ----------------------------------------------------------------------------


class TestGenerateStrongPassword:
    def test_the_payload_is_a_password_that_follows_the_rule(self, client):
        response = client.get("/generateStrongPassword")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"hasError", "errorMessage", "payload"}
        assert (body["hasError"], body["errorMessage"]) == (False, None)
        password = body["payload"]
        assert isinstance(password, str)
        assert len(password) >= 16
        assert SPEC_PATTERN.match(password)

    def test_every_generated_password_follows_the_rule(self):
        passwords = [services.generate_strong_password() for _ in range(500)]
        for password in passwords:
            assert len(password) >= 16, password
            assert SPEC_PATTERN.match(password), password
            validate_password(password, user=User(email="fox@example.com", username="fox"))
        assert len(set(passwords)) == len(passwords)

    def test_a_shorter_length_is_raised_to_sixteen(self):
        for _ in range(200):
            password = services.generate_strong_password(length=4)
            assert len(password) == 16
            assert SPEC_PATTERN.match(password)

    def test_it_is_accepted_as_a_new_password(self, client):
        password = client.get("/generateStrongPassword").json()["payload"]
        response = client.post("/createUser", {"email": "newbie@example.com", "password": password}, format="json")
        assert response.status_code == 200
