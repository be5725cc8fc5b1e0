"""payWithCardEmail: the instructions to pay by card, mailed by a Celery task."""

from unittest import mock

import pytest
from django.core import mail

from apps.billing import tasks
from apps.core.domains import default_domain
from tests.billing.conftest import as_guest, as_user, error, make_plan, ok, price, provider

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox")]

URL = "/payWithCardEmail"


@pytest.fixture
def plans():
    domain = default_domain()
    domain.frontend_origins = ["https://app.example.com"]
    domain.save()
    make_plan(name="PRO", tier=1, prices=[price("pro-monthly", "9.99"), price("pro-life", "149", period="lifetime")])
    make_plan(
        name="Patreon only", tier=1, prices=[price("pat", "5", providers=[provider("patreon", "https://p.example")])]
    )
    make_plan(name="Secret", tier=2, special_code="VIP", prices=[price("secret", "1")])


def test_a_visitor_gets_the_instructions_by_email(client, plans):
    with mock.patch.object(
        tasks.send_pay_with_card_email, "delay", wraps=tasks.send_pay_with_card_email.delay
    ) as delay:
        response = client.post(URL, {"email": "visitor@example.com"}, format="json", **as_guest())
    assert response.status_code == 200
    assert response.json() == ok({"success": True})
    delay.assert_called_once_with(str(default_domain().pk), "visitor@example.com")
    (message,) = mail.outbox
    assert message.to == ["visitor@example.com"]
    assert message.subject == f"{default_domain().name}: pay for your membership by card"
    assert "PRO (PRO tier 1): 9.99 USD monthly" in message.body
    assert "PRO (PRO tier 1): 149 USD once, for life" in message.body
    assert "https://app.example.com" in message.body
    # Plans that cannot be paid by card, and special plans, are not offered.
    assert "Patreon only" not in message.body
    assert "Secret" not in message.body


def test_a_signed_in_user_gets_it_at_their_own_address(client, user, plans):
    response = client.post(URL, {"email": "someone.else@example.com"}, format="json", **as_user(user))
    assert response.json() == ok({"success": True})
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_without_sign_in_an_email_is_needed(client, plans):
    for body in ({}, {"email": ""}):
        response = client.post(URL, body, format="json")
        assert (response.status_code, response.json()) == (400, error("email: Give your email, or sign in."))
    bad = client.post(URL, {"email": "not-an-address"}, format="json")
    assert (bad.status_code, bad.json()) == (400, error("email: Enter a valid email address."))
    assert not mail.outbox


def test_an_address_gets_few_mails(client, plans):
    statuses = [client.post(URL, {"email": "spam@example.com"}, format="json").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert len(mail.outbox) == 3
