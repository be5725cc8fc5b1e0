"""injectBoostyAdminAccountCookies: validated, encrypted at rest, 7 days, per site."""

import json
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.checks import run_checks
from django.utils import timezone

from apps.billing import encryption, selectors, services, tasks
from apps.billing.models import BillingEvent, BoostyAdminCookies
from apps.core.domains import default_domain
from apps.core.errors import InvalidInput
from tests.billing.conftest import FORBIDDEN, NOT_SIGNED_IN, as_admin_key, as_user, error, ok, staff_with_role
from tests.factories import DomainFactory, DomainHostFactory

pytestmark = pytest.mark.django_db

URL = "/injectBoostyAdminAccountCookies"
SESSION_VALUE = "s3cr3t-session-token-value"

COOKIES = [
    {
        "domain": ".boosty.to",
        "expirationDate": 1767225600.5,
        "hostOnly": False,
        "httpOnly": True,
        "name": "auth",
        "path": "/",
        "sameSite": "lax",
        "secure": True,
        "session": False,
        "storeId": None,
        "value": SESSION_VALUE,
    },
    {"domain": "api.boosty.to", "name": "_clientId", "value": "abc", "path": "/", "extra": "dropped"},
]


def inject(client, headers, **body):
    body.setdefault("accountId", "sexyai")
    body.setdefault("cookies", COOKIES)
    return client.post(URL, body, format="json", **headers)


def test_an_admin_injects_cookies_kept_encrypted_for_seven_days(client, admin_headers):
    before = timezone.now()
    response = inject(client, admin_headers)
    assert response.status_code == 200
    assert response.json() == ok({"success": True})
    row = BoostyAdminCookies.objects.get()
    assert (row.domain, row.account_id, row.cookie_count) == (default_domain(), "sexyai", 2)
    assert before + timedelta(days=7) <= row.expires_at <= timezone.now() + timedelta(days=7)
    assert SESSION_VALUE not in row.cookies_encrypted
    assert "auth" not in row.cookies_encrypted
    account, cookies = selectors.boosty_cookies(domain=default_domain())
    assert account == "sexyai"
    assert cookies == [
        {
            "name": "auth",
            "value": SESSION_VALUE,
            "domain": ".boosty.to",
            "path": "/",
            "sameSite": "lax",
            "hostOnly": False,
            "httpOnly": True,
            "secure": True,
            "session": False,
            "expirationDate": 1767225600.5,
        },
        {"name": "_clientId", "value": "abc", "domain": "api.boosty.to", "path": "/"},
    ]
    event = BillingEvent.objects.get()
    assert event.kind == "boosty_cookies_injected"
    assert event.details["accountId"] == "sexyai"
    assert SESSION_VALUE not in json.dumps(event.details)


def test_the_pasted_json_text_is_accepted(client, admin_headers):
    assert inject(client, admin_headers, cookies=json.dumps(COOKIES)).json() == ok({"success": True})
    assert BoostyAdminCookies.objects.get().cookie_count == 2


def test_a_new_injection_replaces_the_sites_cookies_only(client, admin_headers):
    other = DomainFactory(code="freejourney")
    inject(client, admin_headers, domainIdentifier="freejourney")
    inject(client, admin_headers)
    inject(client, admin_headers, accountId="second", cookies=[{"name": "auth", "value": "new"}])
    assert BoostyAdminCookies.objects.count() == 2
    assert selectors.boosty_cookies(domain=default_domain()) == ("second", [{"name": "auth", "value": "new"}])
    assert selectors.boosty_cookies(domain=other)[0] == "sexyai"


def test_the_site_is_named_by_code_host_or_name(client, admin_headers):
    by_host = DomainFactory(name="Sexy.ai")
    DomainHostFactory(domain=by_host, hostname="api.sexy.test")
    inject(client, admin_headers, domainIdentifier="api.sexy.test")
    assert BoostyAdminCookies.objects.get().domain == by_host
    BoostyAdminCookies.objects.all().delete()
    inject(client, admin_headers, domainIdentifier="sexy.ai")
    assert BoostyAdminCookies.objects.get().domain == by_host
    unknown = inject(client, admin_headers, domainIdentifier="nowhere.test")
    assert (unknown.status_code, unknown.json()) == (404, error("No site has this domainIdentifier."))


def test_expired_cookies_are_not_used_and_are_purged(client, admin_headers):
    inject(client, admin_headers)
    BoostyAdminCookies.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert selectors.boosty_cookies(domain=default_domain()) is None
    assert tasks.purge_expired_boosty_cookies.delay().get() == 1
    assert not BoostyAdminCookies.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"cookies": {"name": "auth"}}, "cookies: Give the cookies as a non-empty JSON array of cookie objects."),
        ({"cookies": []}, "cookies: Give the cookies as a non-empty JSON array of cookie objects."),
        ({"cookies": "[not json"}, "cookies: The cookies are not valid JSON."),
        ({"cookies": ["auth=1"]}, "cookies.0: Each cookie must be an object."),
        ({"cookies": [{"value": "1"}]}, "cookies.0: A cookie needs a name made of token characters."),
        ({"cookies": [{"name": "a b", "value": "1"}]}, "cookies.0: A cookie needs a name made of token characters."),
        ({"cookies": [{"name": "auth", "value": 1}]}, "cookies.0: A cookie needs a string value."),
        (
            {"cookies": [{"name": "a", "value": "1"}, {"name": "sid", "value": "1", "domain": ".google.com"}]},
            "cookies.1: Only cookies of boosty.to are accepted.",
        ),
        (
            {"cookies": [{"name": "a", "value": "1", "domain": "evilboosty.to"}]},
            "cookies.0: Only cookies of boosty.to are accepted.",
        ),
        ({"cookies": [{"name": "a", "value": "1", "secure": "yes"}]}, "cookies.0: secure must be true or false."),
        (
            {"cookies": [{"name": "a", "value": "1", "expirationDate": "soon"}]},
            "cookies.0: expirationDate must be a number (seconds since 1970).",
        ),
        ({"cookies": [{"name": "a", "value": "1"}] * 101}, "cookies: Give at most 100 cookies."),
        ({"accountId": "has spaces"}, "accountId: The accountId is the account's name in its Boosty URL, like sexyai."),
        ({"accountId": 7}, "accountId: Must be a string."),
    ],
)
def test_bad_input_is_a_400(client, admin_headers, body, message):
    response = inject(client, admin_headers, **body)
    assert response.status_code == 400
    assert response.json() == error(message)
    assert not BoostyAdminCookies.objects.exists()


def test_missing_cookies_is_a_400(client, admin_headers):
    response = client.post(URL, {"accountId": "sexyai"}, format="json", **admin_headers)
    assert (response.status_code, response.json()) == (400, error("cookies: This field is required."))


def test_only_admins_may_inject(client, user):
    anonymous = inject(client, {})
    assert (anonymous.status_code, anonymous.json()) == (401, error(NOT_SIGNED_IN))
    signed_in = inject(client, as_user(user))
    assert (signed_in.status_code, signed_in.json()) == (403, error(FORBIDDEN))
    support = inject(client, as_admin_key(staff_with_role("support")))
    assert (support.status_code, support.json()) == (403, error(FORBIDDEN))
    assert not BoostyAdminCookies.objects.exists()


class TestEncryptionKeys:
    def test_configured_keys_encrypt_and_rotate(self, settings):
        old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
        settings.BILLING_ENCRYPTION_KEYS = [old]
        token = encryption.encrypt_json({"a": 1})
        assert Fernet(old.encode()).decrypt(token.encode()) == b'{"a":1}'
        settings.BILLING_ENCRYPTION_KEYS = [new, old]
        assert encryption.decrypt_json(token) == {"a": 1}
        settings.BILLING_ENCRYPTION_KEYS = [new]
        with pytest.raises(encryption.UndecryptableValue):
            encryption.decrypt_json(token)

    def test_without_keys_one_is_derived_from_the_secret_key(self, settings):
        settings.BILLING_ENCRYPTION_KEYS = []
        token = encryption.encrypt_json(["x"])
        assert encryption.decrypt_json(token) == ["x"]
        settings.SECRET_KEY = "another-secret-key-0123456789-0123456789-0123456789"
        with pytest.raises(encryption.UndecryptableValue):
            encryption.decrypt_json(token)

    def test_a_malformed_key_fails_the_system_check(self, settings):
        settings.BILLING_ENCRYPTION_KEYS = ["not-a-key"]
        assert "billing.E001" in {message.id for message in run_checks()}
        settings.BILLING_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
        assert "billing.E001" not in {message.id for message in run_checks()}

    def test_an_unknown_processor_name_fails_the_system_check(self, settings):
        settings.BILLING_CARD_PROCESSORS = {"arkpay": "sandbx"}
        assert "billing.E002" in {message.id for message in run_checks()}


def test_the_service_refuses_like_the_endpoint():
    with pytest.raises(InvalidInput):
        services.inject_boosty_cookies(
            domain=default_domain(), account_id="ok", cookies=[{"name": "a", "value": "1", "domain": "x.com"}]
        )
