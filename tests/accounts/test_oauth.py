"""AIMG External Login Providers: POST /auth/{loginProvider} and the providers' callbacks.

The providers' token and profile endpoints are replaced at the HTTP level (``responses``), so
allauth's real code runs: state, code exchange, profile and email fetches.
"""

import base64
import copy
import json
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import responses
from allauth.socialaccount.models import SocialAccount
from django.contrib.sessions.models import Session

from apps.accounts.models import ApiSession, User
from apps.accounts.oauth import login_providers
from apps.accounts.services import create_session
from tests.factories import DomainFactory, DomainHostFactory, UserFactory

pytestmark = pytest.mark.django_db

HOST = "api.site-a.test"
FRONT_END = "https://app.site-a.test"
OTHER_HOST = "api.site-b.test"
OTHER_FRONT_END = "https://app.site-b.test"
CLIENTS = {
    name: {"client_id": f"test-{name}-client", "secret": f"test-{name}-secret"}
    for name in ("google", "discord", "github", "patreon")
}

GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
GOOGLE_USERINFO = "https://www.googleapis.com/oauth2/v2/userinfo"
DISCORD_TOKEN = "https://discord.com/api/oauth2/token"
DISCORD_ME = "https://discord.com/api/users/@me"
GITHUB_TOKEN = "https://github.com/login/oauth/access_token"
GITHUB_USER = "https://api.github.com/user"
GITHUB_EMAILS = "https://api.github.com/user/emails"
PATREON_TOKEN = "https://www.patreon.com/api/oauth2/token"
PATREON_IDENTITY = (
    "https://www.patreon.com/api/oauth2/v2/identity"
    "?fields%5Buser%5D=email,is_email_verified,first_name,last_name,full_name,vanity,image_url,thumb_url,url"
)


@pytest.fixture(autouse=True)
def oauth_apps(settings):
    providers = copy.deepcopy(settings.SOCIALACCOUNT_PROVIDERS)
    for name, app in CLIENTS.items():
        providers[name]["APPS"] = [dict(app)]
    settings.SOCIALACCOUNT_PROVIDERS = providers


@pytest.fixture
def site():
    domain = DomainFactory(frontend_origins=[FRONT_END])
    DomainHostFactory(domain=domain, hostname=HOST)
    return domain


@pytest.fixture
def other_site():
    domain = DomainFactory(frontend_origins=[OTHER_FRONT_END])
    DomainHostFactory(domain=domain, hostname=OTHER_HOST)
    return domain


# --- Provider doubles -------------------------------------------------------------------------------
def _google_id_token(*, uid, email, verified):
    now = int(time.time())
    claims = {
        "iss": "https://accounts.google.com",
        "aud": CLIENTS["google"]["client_id"],
        "sub": uid,
        "email": email,
        "email_verified": verified,
        "name": "Ada Lovelace",
        "iat": now,
        "exp": now + 3600,
    }
    # Received straight from the token endpoint over TLS, so allauth does not check the signature.
    return jwt.encode(claims, "not-google-key-0123456789abcdef0123456789", algorithm="HS256")


def mock_provider(rsps, provider, *, uid="1001", email="ada@example.com", verified=True, username="ada"):
    """Register the provider's token and profile endpoints for one sign-in."""
    token = {"access_token": f"{provider}-access-token", "token_type": "Bearer", "expires_in": 3600}
    if provider == "google":
        token["id_token"] = _google_id_token(uid=uid, email=email, verified=verified)
        rsps.post(GOOGLE_TOKEN, json=token)
    elif provider == "google-userinfo":
        rsps.post(GOOGLE_TOKEN, json=token)
        rsps.get(GOOGLE_USERINFO, json={"id": uid, "email": email, "verified_email": verified, "name": "Ada"})
    elif provider == "discord":
        rsps.post(DISCORD_TOKEN, json=token)
        rsps.get(
            DISCORD_ME,
            json={"id": uid, "username": username, "global_name": "Ada", "email": email, "verified": verified},
        )
    elif provider == "github":
        rsps.post(GITHUB_TOKEN, json={"access_token": "github-access-token", "token_type": "bearer", "scope": ""})
        rsps.get(GITHUB_USER, json={"id": int(uid), "login": username, "name": "Ada Lovelace", "email": None})
        emails = [{"email": email, "primary": True, "verified": verified, "visibility": "private"}] if email else []
        rsps.get(GITHUB_EMAILS, json=emails)
    elif provider == "patreon":
        rsps.post(PATREON_TOKEN, json=token)
        attributes = {"email": email, "is_email_verified": verified, "full_name": "Ada Lovelace", "vanity": username}
        rsps.get(PATREON_IDENTITY, json={"data": {"id": uid, "type": "user", "attributes": attributes}})
    else:
        raise AssertionError(provider)


def route(provider: str) -> str:
    return provider.split("-")[0]


# --- Flow helpers ---------------------------------------------------------------------------------
def start(client, provider, *, host=HOST, session_id=None, **body):
    body.setdefault("redirectURL", f"{FRONT_END}/auth/done")
    headers = {"HTTP_HOST": host}
    if session_id:
        headers["HTTP_X_SESSION_ID"] = str(session_id)
    return client.post(f"/auth/{route(provider)}", body, format="json", **headers)


def authorization_url(response) -> str:
    assert response.status_code == 302, response.content
    return response["Location"]


def state_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["state"][0]


def callback(client, provider, location, *, host=HOST, **params):
    params.setdefault("code", "the-authorization-code")
    params["state"] = state_of(location)
    return client.get(f"/accounts/{route(provider)}/login/callback/", params, HTTP_HOST=host)


def decode_b(location: str) -> dict:
    (value,) = parse_qs(urlsplit(location).query)["b"]
    assert "=" not in value  # unpadded Base64URL
    return json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))


def sign_in_with(client, provider, *, host=HOST, session_id=None, body=None, **identity):
    """A whole round trip; returns the callback's response."""
    location = authorization_url(start(client, provider, host=host, session_id=session_id, **(body or {})))
    with responses.RequestsMock() as rsps:
        mock_provider(rsps, provider, **identity)
        return callback(client, provider, location, host=host)


def front_end_answer(response, front_end=FRONT_END) -> dict:
    assert response.status_code == 302, response.content
    assert response["Location"].startswith(f"{front_end}/auth/done?")
    return decode_b(response["Location"])


# --- POST /auth/{loginProvider} -----------------------------------------------------------------------
def test_start_redirects_to_the_google_authorization_page(api_client, site):
    response = start(api_client, "google")

    location = authorization_url(response)
    parts = urlsplit(location)
    query = parse_qs(parts.query)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "accounts.google.com", "/o/oauth2/v2/auth")
    assert query["client_id"] == [CLIENTS["google"]["client_id"]]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"http://{HOST}/accounts/google/login/callback/"]
    assert set(query["scope"][0].split()) == {"profile", "email"}
    assert len(query["state"][0]) >= 16
    assert "secret" not in location


@pytest.mark.parametrize(
    ("provider", "authorize"),
    [
        ("discord", "https://discord.com/api/oauth2/authorize"),
        ("github", "https://github.com/login/oauth/authorize"),
        ("patreon", "https://www.patreon.com/oauth2/authorize"),
    ],
)
def test_start_redirects_to_each_providers_authorization_page(api_client, site, provider, authorize):
    location = authorization_url(start(api_client, provider))

    assert location.startswith(f"{authorize}?")
    assert parse_qs(urlsplit(location).query)["client_id"] == [CLIENTS[provider]["client_id"]]


def test_a_browser_form_post_signs_in(api_client, site):
    form = urlencode(
        {
            "redirectURL": f"{FRONT_END}/auth/done",
            "refList": "https://a.test/,https://b.test/",
            "rs": "partner",
            "isAtLeast18Confirmed": "true",
        }
    )
    response = api_client.post("/auth/github", form, content_type="application/x-www-form-urlencoded", HTTP_HOST=HOST)
    location = authorization_url(response)
    assert location.startswith("https://github.com/login/oauth/authorize?")

    with responses.RequestsMock() as rsps:
        mock_provider(rsps, "github")
        answer = front_end_answer(callback(api_client, "github", location))

    user = User.objects.get(pk=answer["payload"]["userID"])
    assert (user.ref_list, user.referrer, user.is_at_least_18_confirmed) == (
        ["https://a.test/", "https://b.test/"],
        "partner",
        True,
    )


def test_start_refuses_a_bad_ref_list(api_client, site):
    response = start(api_client, "google", refList=[1, 2])

    assert response.status_code == 400
    assert response.json()["errorMessage"] == "refList: Must be a comma-separated string of referrers."


@pytest.mark.parametrize(
    "redirect_url",
    [
        "https://evil.test/auth/done",
        "javascript:alert(document.cookie)",
        "/auth/done",
        "//evil.test/auth/done",
        "https://app.site-a.test.evil.test/auth/done",
        "https://app.site-a.test@evil.test/auth/done",
        "http://app.site-a.test/auth/done",
        f"{FRONT_END}/" + "x" * 2100,
        "",
    ],
)
def test_start_refuses_a_redirect_url_outside_the_front_ends(api_client, site, redirect_url):
    response = start(api_client, "google", redirectURL=redirect_url)

    assert response.status_code == 400
    assert not response.has_header("Location")
    data = response.json()
    assert data["hasError"] is True and data["payload"] is None
    assert "redirectURL" in data["errorMessage"]


def test_start_refuses_a_missing_redirect_url(api_client, site):
    response = api_client.post("/auth/google", {}, format="json", HTTP_HOST=HOST)

    assert response.status_code == 400
    assert "redirectURL" in response.json()["errorMessage"]


def test_start_refuses_the_front_end_of_another_site(api_client, site, other_site):
    response = start(api_client, "google", redirectURL=f"{OTHER_FRONT_END}/auth/done")

    assert response.status_code == 400


def test_unknown_provider_is_404(api_client, site):
    response = start(api_client, "facebook")

    assert response.status_code == 404
    data = response.json()
    assert data["hasError"] is True and data["payload"] is None
    assert "google, discord, github, patreon" in data["errorMessage"]


def test_provider_names_are_case_insensitive(api_client, site):
    response = api_client.post("/auth/GitHub", {"redirectURL": f"{FRONT_END}/x"}, format="json", HTTP_HOST=HOST)

    assert response.status_code == 302


@pytest.mark.parametrize("app", [None, {"client_id": "test-google-client", "secret": ""}])
def test_provider_without_credentials_is_404(api_client, site, settings, app):
    providers = copy.deepcopy(settings.SOCIALACCOUNT_PROVIDERS)
    providers["google"]["APPS"] = [app] if app else []
    settings.SOCIALACCOUNT_PROVIDERS = providers

    response = start(api_client, "google")

    assert response.status_code == 404
    assert response.json()["errorMessage"] == "Sign-in with Google is not available."


def test_only_the_callbacks_of_allauth_are_published(api_client, site):
    for path in ("/accounts/google/login/", "/accounts/signup/", "/accounts/login/", "/accounts/3rdparty/signup/"):
        assert api_client.get(path, HTTP_HOST=HOST).status_code == 404, path


# --- Round trips ------------------------------------------------------------------------------------------
PROVIDERS = ["google", "google-userinfo", "discord", "github", "patreon"]
PROVIDER_IDS = {"google": "Google", "google-userinfo": "Google", "discord": "Discord", "github": "GitHub"}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_round_trip_creates_the_user_and_rotates_the_session(api_client, site, provider):
    guest = create_session(domain=site)
    body = {
        "refList": "https://news.test/a, https://search.test/?q=art",
        "rs": "partner-7",
        "isAtLeast18Confirmed": True,
    }

    response = sign_in_with(
        api_client, provider, session_id=guest.pk, body=body, uid="4242", email="Ada@Example.com", username="ada_l"
    )

    answer = front_end_answer(response)
    assert answer["hasError"] is False and answer["errorMessage"] is None
    payload = answer["payload"]
    user = User.objects.get(domain=site, email__iexact="ada@example.com")
    assert payload["userID"] == str(user.pk)
    assert payload["email"] == user.email
    assert payload["isAuthenticated"] is True
    assert payload["isAtLeast18Confirmed"] is True
    assert payload["username"] == user.username == ("ada" if provider.startswith("google") else "ada_l")
    assert {"tier", "merchantProcessor", "subscriptions", "itemCount", "rootFolderItemCount"} <= payload.keys()
    # A new session for the user; the guest session given at the start no longer works.
    assert payload["sessionID"] != str(guest.pk)
    session = ApiSession.objects.get(pk=payload["sessionID"])
    assert session.user_id == user.pk and session.domain_id == site.pk and session.revoked_at is None
    guest.refresh_from_db()
    assert guest.revoked_at is not None
    # What the front end sent is kept on the new user.
    assert user.ref_list == ["https://news.test/a", "https://search.test/?q=art"]
    assert user.referrer == "partner-7"
    assert user.is_at_least_18_confirmed is True
    assert not user.has_usable_password()
    assert login_providers(user) == [
        {"providerType": "oauth", "providerId": PROVIDER_IDS.get(provider, "Patreon"), "userId": "4242"}
    ]


def test_the_session_opened_works_with_x_session_id(api_client, site):
    answer = front_end_answer(sign_in_with(api_client, "discord"))

    session = ApiSession.objects.get(pk=answer["payload"]["sessionID"])
    assert session.user.email == "ada@example.com"
    assert session.expires_at is not None


def test_the_token_exchange_sends_the_code_and_the_client_credentials(api_client, site):
    location = authorization_url(start(api_client, "discord"))
    with responses.RequestsMock() as rsps:
        mock_provider(rsps, "discord")
        front_end_answer(callback(api_client, "discord", location, code="code-from-discord"))
        token_request = parse_qs(rsps.calls[0].request.body)
        profile_request = rsps.calls[1].request

    assert token_request["code"] == ["code-from-discord"]
    assert token_request["grant_type"] == ["authorization_code"]
    assert token_request["client_id"] == [CLIENTS["discord"]["client_id"]]
    assert token_request["client_secret"] == [CLIENTS["discord"]["secret"]]
    assert token_request["redirect_uri"] == [f"http://{HOST}/accounts/discord/login/callback/"]
    assert profile_request.headers["Authorization"] == "Bearer discord-access-token"


def test_signing_in_again_gives_the_same_user(api_client, site):
    first = front_end_answer(sign_in_with(api_client, "google", uid="7"))
    second = front_end_answer(sign_in_with(api_client, "google", uid="7"))

    assert first["payload"]["userID"] == second["payload"]["userID"]
    assert first["payload"]["sessionID"] != second["payload"]["sessionID"]
    assert User.objects.filter(domain=site, email__iexact="ada@example.com").count() == 1
    assert SocialAccount.objects.filter(provider="google").count() == 1


def test_the_same_verified_email_through_another_provider_gives_the_same_user(api_client, site):
    first = front_end_answer(sign_in_with(api_client, "google", uid="7"))
    second = front_end_answer(sign_in_with(api_client, "github", uid="99"))

    assert first["payload"]["userID"] == second["payload"]["userID"]
    user = User.objects.get(pk=first["payload"]["userID"])
    assert {p["providerId"] for p in login_providers(user)} == {"Google", "GitHub"}


def test_a_verified_email_signs_in_to_the_existing_account(api_client, site):
    existing = UserFactory(domain=site, email="ada@example.com", username="ada", ref_list=["https://first.test/"])

    body = {"refList": "https://later.test/", "rs": "later", "isAtLeast18Confirmed": True}

    answer = front_end_answer(sign_in_with(api_client, "patreon", body=body))

    assert answer["payload"]["userID"] == str(existing.pk)
    assert answer["payload"]["isAtLeast18Confirmed"] is True
    existing.refresh_from_db()
    assert (existing.ref_list, existing.referrer) == (["https://first.test/"], "")  # sign-up data stays
    assert existing.is_at_least_18_confirmed is True
    assert existing.check_password("Str0ng!Passw0rd")  # the password stays


def test_an_existing_link_still_signs_in_after_the_email_changed(api_client, site):
    first = front_end_answer(sign_in_with(api_client, "discord", uid="55"))
    User.objects.filter(pk=first["payload"]["userID"]).update(email="renamed@example.com")

    second = front_end_answer(sign_in_with(api_client, "discord", uid="55"))

    assert second["payload"]["userID"] == first["payload"]["userID"]
    assert second["payload"]["email"] == "renamed@example.com"


@pytest.mark.parametrize("provider", ["google", "discord", "github", "patreon"])
def test_an_unverified_email_does_not_take_over_an_existing_account(api_client, site, provider):
    victim = UserFactory(domain=site, email="victim@example.com")
    guest = create_session(domain=site)

    response = sign_in_with(api_client, provider, session_id=guest.pk, email="victim@example.com", verified=False)

    answer = front_end_answer(response)
    assert answer["hasError"] is True and answer["payload"] is None
    assert "not verified" in answer["errorMessage"]
    assert not ApiSession.objects.filter(user=victim).exists()
    assert not SocialAccount.objects.exists()
    guest.refresh_from_db()
    assert guest.revoked_at is None


def test_an_unverified_email_does_not_create_an_account(api_client, site):
    answer = front_end_answer(sign_in_with(api_client, "discord", email="someone@example.com", verified=False))

    assert answer["hasError"] is True
    assert not User.objects.filter(email__iexact="someone@example.com").exists()


def test_a_provider_without_email_is_refused(api_client, site):
    answer = front_end_answer(sign_in_with(api_client, "github", email=None))

    assert answer == {
        "hasError": True,
        "errorMessage": "GitHub did not share the email address of your account. Allow access to it and try again.",
        "payload": None,
    }
    assert not User.objects.filter(domain=site).exists()


def test_a_user_at_abuse_level_9_cannot_sign_in(api_client, site):
    blocked = UserFactory(domain=site, email="ada@example.com", abuse_level=9)

    answer = front_end_answer(sign_in_with(api_client, "google"))

    assert answer["hasError"] is True
    assert answer["errorMessage"] == "This account cannot sign in."
    assert not ApiSession.objects.filter(user=blocked).exists()


def test_a_linked_user_at_abuse_level_9_cannot_sign_in(api_client, site):
    answer = front_end_answer(sign_in_with(api_client, "discord", uid="31"))
    User.objects.filter(pk=answer["payload"]["userID"]).update(abuse_level=9)

    again = front_end_answer(sign_in_with(api_client, "discord", uid="31"))

    assert again["hasError"] is True
    assert ApiSession.objects.filter(user_id=answer["payload"]["userID"]).count() == 1


def test_the_same_email_on_another_site_is_another_user(api_client, site, other_site):
    here = front_end_answer(sign_in_with(api_client, "google", uid="7"))
    there = front_end_answer(
        sign_in_with(
            api_client, "google", uid="7", host=OTHER_HOST, body={"redirectURL": f"{OTHER_FRONT_END}/auth/done"}
        ),
        front_end=OTHER_FRONT_END,
    )

    assert here["payload"]["userID"] != there["payload"]["userID"]
    assert User.objects.get(pk=here["payload"]["userID"]).domain_id == site.pk
    assert User.objects.get(pk=there["payload"]["userID"]).domain_id == other_site.pk
    assert ApiSession.objects.get(pk=there["payload"]["sessionID"]).domain_id == other_site.pk
    # Each site keeps its own link to the same Google account.
    assert SocialAccount.objects.filter(provider="google").count() == 2
    for user_id in (here["payload"]["userID"], there["payload"]["userID"]):
        assert login_providers(User.objects.get(pk=user_id))[0]["userId"] == "7"


def test_the_callback_on_another_site_is_refused(api_client, site, other_site):
    location = authorization_url(start(api_client, "google"))
    with responses.RequestsMock() as rsps:
        mock_provider(rsps, "google")
        response = callback(api_client, "google", location, host=OTHER_HOST)

    answer = front_end_answer(response)
    assert answer["hasError"] is True
    assert answer["errorMessage"] == "This sign-in was started on another site."
    assert not User.objects.exists()


def test_the_redirect_keeps_the_front_ends_query_and_fragment(api_client, site):
    redirect_url = f"{FRONT_END}/auth/done?next=%2Fgallery%3Fpage%3D2&b=stale&lang=fr#top"

    response = sign_in_with(api_client, "discord", body={"redirectURL": redirect_url})

    assert response.status_code == 302
    parts = urlsplit(response["Location"])
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{FRONT_END}/auth/done"
    assert parts.fragment == "top"
    assert parts.query.startswith("next=%2Fgallery%3Fpage%3D2&lang=fr&b=")
    query = parse_qs(parts.query)
    assert query["next"] == ["/gallery?page=2"] and query["lang"] == ["fr"]
    assert len(query["b"]) == 1
    assert decode_b(response["Location"])["payload"]["isAuthenticated"] is True


# --- Failures at the provider ---------------------------------------------------------------------------
def test_a_cancelled_sign_in_returns_an_error_to_the_front_end(api_client, site):
    guest = create_session(domain=site)
    location = authorization_url(start(api_client, "google", session_id=guest.pk))

    response = api_client.get(
        "/accounts/google/login/callback/", {"error": "access_denied", "state": state_of(location)}, HTTP_HOST=HOST
    )

    assert front_end_answer(response) == {
        "hasError": True,
        "errorMessage": "The sign-in with Google was cancelled.",
        "payload": None,
    }
    guest.refresh_from_db()
    assert guest.revoked_at is None


def test_a_failed_token_exchange_returns_an_error_to_the_front_end(api_client, site):
    location = authorization_url(start(api_client, "github"))
    with responses.RequestsMock() as rsps:
        rsps.post(GITHUB_TOKEN, json={"error": "bad_verification_code"})
        response = callback(api_client, "github", location)

    answer = front_end_answer(response)
    assert answer["hasError"] is True
    assert answer["errorMessage"] == "The sign-in with GitHub did not succeed. Try again."


def test_an_unreadable_profile_returns_an_error_to_the_front_end(api_client, site):
    location = authorization_url(start(api_client, "discord"))
    with responses.RequestsMock() as rsps:
        rsps.post(DISCORD_TOKEN, json={"access_token": "discord-access-token", "token_type": "Bearer"})
        rsps.get(DISCORD_ME, status=401, json={"message": "401: Unauthorized", "code": 0})
        response = callback(api_client, "discord", location)

    answer = front_end_answer(response)
    assert answer["errorMessage"] == "The sign-in with Discord did not succeed. Try again."
    assert not User.objects.exists()


def test_a_state_is_used_once(api_client, site):
    location = authorization_url(start(api_client, "discord"))
    with responses.RequestsMock() as rsps:
        mock_provider(rsps, "discord")
        front_end_answer(callback(api_client, "discord", location))

    with responses.RequestsMock():  # no call may leave for the provider
        replay = callback(api_client, "discord", location)

    assert replay.status_code == 400
    assert not replay.has_header("Location")
    assert replay.json() == {
        "hasError": True,
        "errorMessage": "This sign-in has expired or was already used. Start it again.",
        "payload": None,
    }
    assert ApiSession.objects.filter(user__isnull=False).count() == 1


def test_a_callback_from_another_browser_is_refused(api_client, site):
    from rest_framework.test import APIClient

    location = authorization_url(start(api_client, "discord"))
    assert Session.objects.count() == 1

    with responses.RequestsMock():
        response = callback(APIClient(), "discord", location)

    assert response.status_code == 400
    assert not User.objects.exists()


# --- Accounts -------------------------------------------------------------------------------------------
def test_the_providers_username_is_made_unique_on_the_site(api_client, site, other_site):
    UserFactory(domain=site, email="someone@example.com", username="Ada_L")
    UserFactory(domain=other_site, email="other@example.com", username="ada_l2")

    answer = front_end_answer(sign_in_with(api_client, "discord", username="ada_l"))

    assert answer["payload"]["username"] == "ada_l2"


def test_account_creation_falls_back_to_the_account_created_meanwhile(site):
    from apps.accounts.services.oauth import PendingLogin, _create_user

    created_meanwhile = UserFactory(domain=site, email="ada@example.com")
    pending = PendingLogin(redirect_url=f"{FRONT_END}/auth/done", domain_id=str(site.pk))

    user = _create_user(domain=site, email="ADA@example.com", username="ada", pending=pending)

    assert user.pk == created_meanwhile.pk
    assert User.objects.filter(domain=site).count() == 1
