"""getBillingPlans and createBillingPlan over HTTP, in the AIMG envelope."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.billing.models import BillingPlan, BillingPlanPrice
from apps.core.domains import default_domain
from tests.billing.conftest import (
    FORBIDDEN,
    NOT_SIGNED_IN,
    as_admin_key,
    as_guest,
    as_user,
    error,
    make_plan,
    ok,
    price,
    provider,
    staff_with_role,
)
from tests.factories import DomainFactory, DomainHostFactory

pytestmark = pytest.mark.django_db

URL = "/getBillingPlans"


def _pro_plan():
    return make_plan(
        name="PRO",
        tier=1,
        description="Faster generations.",
        features=["Private folders", "No ads"],
        main_benefits=["2x faster"],
        prices=[
            price(
                "pro-monthly",
                "9.99",
                providers=[
                    provider("arkpay", label="Pay by card"),
                    provider("patreon", "https://www.patreon.com/join/site?p={productID}", "Join on Patreon"),
                    provider("paypal", "https://paypal.example.com/checkout?return={redirectURL}"),
                ],
            ),
            price(
                "pro-yearly",
                "99",
                period="yearly",
                name="Two months free",
                providers=[provider("boosty", "https://boosty.to/site")],
            ),
            price(
                "pro-trial",
                "0",
                type="trial",
                trial_days=7,
                providers=[provider("arkpay", "https://pay.example.com/card")],
            ),
        ],
    )


class TestGetBillingPlans:
    def test_lists_the_sites_plans_in_the_annex_shape(self, client):
        plan = _pro_plan()
        response = client.get(URL)
        assert response.status_code == 200
        assert response.json() == ok(
            [
                {
                    "id": str(plan.pk),
                    "name": "PRO",
                    "description": "Faster generations.",
                    "features": ["Private folders", "No ads"],
                    "mainBenefits": ["2x faster"],
                    "prices": [
                        {
                            "type": "base",
                            "period": "monthly",
                            "currency": "USD",
                            "currencyType": "fiat",
                            "value": 9.99,
                            # arkpay has neither a stored URL nor a paymentURL; paypal needs a redirectURL.
                            "paymentProviders": [
                                {
                                    "paymentProvider": "patreon",
                                    "paymentLabel": "Join on Patreon",
                                    "paymentUrl": "https://www.patreon.com/join/site?p=pro-monthly",
                                }
                            ],
                        },
                        {
                            "name": "Two months free",
                            "type": "base",
                            "period": "yearly",
                            "currency": "USD",
                            "currencyType": "fiat",
                            "value": 99,
                            "paymentProviders": [{"paymentProvider": "boosty", "paymentUrl": "https://boosty.to/site"}],
                        },
                        {
                            "type": "trial",
                            "period": "monthly",
                            "currency": "USD",
                            "currencyType": "fiat",
                            "value": 0,
                            "trialDays": 7,
                            "paymentProviders": [
                                {
                                    "paymentProvider": "arkpay",
                                    "paymentUrl": "https://pay.example.com/card?productID=pro-trial",
                                }
                            ],
                        },
                    ],
                    "tier": 1,
                }
            ]
        )

    def test_payment_urls_are_built_from_redirect_and_payment_urls(self, client):
        _pro_plan()
        response = client.get(
            URL,
            {"redirectURL": "https://site.example.com/done?x=1", "paymentURL": "https://site.example.com/pay"},
        )
        assert response.status_code == 200
        monthly = response.json()["payload"][0]["prices"][0]
        assert monthly["paymentProviders"] == [
            {
                "paymentProvider": "arkpay",
                "paymentLabel": "Pay by card",
                "paymentUrl": "https://site.example.com/pay?productID=pro-monthly"
                "&redirectURL=https%3A%2F%2Fsite.example.com%2Fdone%3Fx%3D1",
            },
            {
                "paymentProvider": "patreon",
                "paymentLabel": "Join on Patreon",
                "paymentUrl": "https://www.patreon.com/join/site?p=pro-monthly",
            },
            {
                "paymentProvider": "paypal",
                "paymentUrl": "https://paypal.example.com/checkout?return=https%3A%2F%2Fsite.example.com%2Fdone%3Fx%3D1",
            },
        ]
        # The caller's paymentURL wins over a stored self-hosted page.
        trial = response.json()["payload"][0]["prices"][2]
        assert trial["paymentProviders"][0]["paymentUrl"].startswith("https://site.example.com/pay?productID=pro-trial")

    def test_plan_ids_filter_the_list(self, client):
        pro = make_plan(name="PRO", tier=1)
        plus = make_plan(name="PRO Plus", tier=2)
        make_plan(name="Max", tier=3)
        response = client.get(URL, {"planIDs": f"{plus.pk}, {pro.pk},{uuid.uuid4()}"})
        assert response.status_code == 200
        assert [plan["id"] for plan in response.json()["payload"]] == [str(pro.pk), str(plus.pk)]

    def test_special_plans_appear_only_for_their_code(self, client):
        make_plan(name="PRO", tier=1)
        make_plan(name="Founders", tier=2, special_code="FOUNDERS")
        make_plan(name="Partner", tier=2, special_code="PARTNER")
        names = lambda response: [plan["name"] for plan in response.json()["payload"]]  # noqa: E731
        assert names(client.get(URL)) == ["PRO"]
        assert names(client.get(URL, {"code": "founders"})) == ["PRO", "Founders"]
        assert names(client.get(URL, {"code": "nope"})) == ["PRO"]

    def test_inactive_plans_and_other_sites_plans_are_not_listed(self, client):
        make_plan(name="PRO", tier=1)
        BillingPlan.objects.filter(pk=make_plan(name="Old", tier=1).pk).update(is_active=False)
        other = DomainFactory()
        DomainHostFactory(domain=other, hostname="api.other.test")
        make_plan(name="Elsewhere", tier=1, domain=other)
        assert [p["name"] for p in client.get(URL).json()["payload"]] == ["PRO"]
        assert [p["name"] for p in client.get(URL, HTTP_HOST="api.other.test").json()["payload"]] == ["Elsewhere"]

    def test_no_plans_is_an_empty_list(self, client):
        assert client.get(URL).json() == ok([])

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ({"planIDs": "abc"}, "planIDs: Give a comma-separated list of plan ids (UUIDs)."),
            ({"redirectURL": "javascript:alert(1)"}, "redirectURL: Must be an absolute http or https URL."),
            ({"paymentURL": "/relative"}, "paymentURL: Must be an absolute http or https URL."),
        ],
    )
    def test_bad_query_is_a_400(self, client, query, message):
        response = client.get(URL, query)
        assert response.status_code == 400
        assert response.json() == error(message)

    def test_a_malformed_session_or_key_is_refused(self, client):
        make_plan()
        session = client.get(URL, HTTP_X_SESSION_ID="not-a-uuid")
        assert (session.status_code, session.json()) == (401, error("The X-Session-ID header must be a valid UUID."))
        key = client.get(URL, HTTP_X_ADMINISTRATION_KEY="akey_unknown.secret")
        assert (key.status_code, key.json()) == (401, error("The administration key is not valid."))

    def test_query_count_does_not_grow_with_the_plans(self, client):
        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(URL).status_code == 200
            return len(queries)

        _pro_plan()
        count()  # resolves (and caches) the request's site
        one = count()
        assert one == 3  # plans, prices, payment providers
        for index in range(4):
            make_plan(
                name=f"Plan {index}", tier=2, prices=[price(f"p{index}-a"), price(f"p{index}-b", period="yearly")]
            )
        assert count() == one


CREATE = "/createBillingPlan"


def _body(**overrides) -> dict:
    body = {
        "name": "PRO Plus",
        "description": "Everything, faster.",
        "features": ["Video"],
        "mainBenefits": ["Largest models"],
        "tier": 2,
        "prices": [
            {
                "name": "Launch offer",
                "type": "discount",
                "period": "monthly",
                "currency": "EUR",
                "currencyType": "fiat",
                "value": 14.5,
                "paymentProviders": [
                    {"paymentProvider": "arkpay", "paymentLabel": "Card", "paymentUrl": ""},
                    {"paymentProvider": "stripe", "paymentUrl": "https://buy.stripe.com/abc"},
                ],
            },
            {
                "type": "base",
                "period": "lifetime",
                "currency": "BTC",
                "currencyType": "crypto",
                "value": 0.0025,
                "paymentProviders": [{"paymentProvider": "helio", "paymentUrl": "https://helio.example.com/x"}],
            },
        ],
    }
    body.update(overrides)
    return body


class TestCreateBillingPlan:
    def test_an_admin_creates_a_plan_with_prices_and_providers(self, client, admin_headers):
        response = client.post(CREATE, _body(), format="json", **admin_headers)
        assert response.status_code == 200
        plan = BillingPlan.objects.get()
        assert response.json() == ok(
            {
                "id": str(plan.pk),
                "name": "PRO Plus",
                "description": "Everything, faster.",
                "features": ["Video"],
                "mainBenefits": ["Largest models"],
                "prices": [
                    {
                        "name": "Launch offer",
                        "type": "discount",
                        "period": "monthly",
                        "currency": "EUR",
                        "currencyType": "fiat",
                        "value": 14.5,
                        "paymentProviders": [
                            {"paymentProvider": "stripe", "paymentUrl": "https://buy.stripe.com/abc"},
                        ],
                    },
                    {
                        "type": "base",
                        "period": "lifetime",
                        "currency": "BTC",
                        "currencyType": "crypto",
                        "value": 0.0025,
                        "paymentProviders": [{"paymentProvider": "helio", "paymentUrl": "https://helio.example.com/x"}],
                    },
                ],
                "tier": 2,
            }
        )
        assert plan.domain == default_domain()
        prices = list(plan.prices.order_by("position"))
        assert [p.value for p in prices] == [Decimal("14.5"), Decimal("0.0025")]
        assert prices[0].product_id.startswith("pro-plus-monthly-eur-")
        assert prices[1].product_id.startswith("pro-plus-lifetime-btc-")
        assert [p.payment_provider for p in prices[0].payment_providers.all()] == ["arkpay", "stripe"]
        # The new plan is listed, and arkpay's URL appears once a paymentURL is given.
        listed = client.get(URL, {"paymentURL": "https://pay.example.com"}).json()["payload"][0]["prices"][0]
        assert (
            listed["paymentProviders"][0]["paymentUrl"] == f"https://pay.example.com?productID={prices[0].product_id}"
        )

    def test_env_puts_the_plan_on_the_same_site_in_that_environment(self, client, admin_headers):
        here = default_domain()
        staging = DomainFactory(name=here.name, environment="staging")
        response = client.post(CREATE, _body(env="staging"), format="json", **admin_headers)
        assert response.status_code == 200
        assert BillingPlan.objects.get().domain == staging

    def test_an_unknown_env_is_refused(self, client, admin_headers):
        response = client.post(CREATE, _body(env="qa"), format="json", **admin_headers)
        assert response.status_code == 400
        assert response.json() == error(f"env: No site named {default_domain().name} runs in the environment 'qa'.")
        assert not BillingPlan.objects.exists()

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"prices": None}, "prices: This field may not be null."),
            ({"prices": []}, "prices: This list may not be empty."),
            ({"tier": 0}, "tier: Ensure this value is greater than or equal to 1."),
            ({"tier": "two"}, "tier: A valid integer is required."),
            ({"name": 5}, "name: Must be a string."),
        ],
    )
    def test_bad_plan_fields_are_400(self, client, admin_headers, change, message):
        response = client.post(CREATE, _body(**change), format="json", **admin_headers)
        assert response.status_code == 400
        assert response.json() == error(message)
        assert not BillingPlan.objects.exists()

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"type": "weekly"}, 'prices.0.type: "weekly" is not a valid choice.'),
            ({"currency": "XYZ"}, 'prices.0.currency: "XYZ" is not a valid choice.'),
            ({"value": -1}, "prices.0.value: Ensure this value is greater than or equal to 0."),
            ({"paymentProviders": []}, "prices.0.paymentProviders: This list may not be empty."),
            (
                {"paymentProviders": [{"paymentProvider": "stripe", "paymentUrl": "ftp://x"}]},
                "prices.0.paymentProviders.0.paymentUrl: Must be an absolute http or https URL.",
            ),
            (
                {"paymentProviders": [{"paymentProvider": "stripe", "paymentUrl": ""}]},
                "prices.0.paymentProviders.0.paymentUrl: Give the URL of the external payment page.",
            ),
            (
                {"paymentProviders": [{"paymentProvider": "venmo", "paymentUrl": "https://x.example"}]},
                'prices.0.paymentProviders.0.paymentProvider: "venmo" is not a valid choice.',
            ),
            (
                {
                    "paymentProviders": [
                        {"paymentProvider": "stripe", "paymentUrl": "https://a.example"},
                        {"paymentProvider": "stripe", "paymentUrl": "https://b.example"},
                    ]
                },
                "prices.0.paymentProviders: Each payment provider may appear once.",
            ),
        ],
    )
    def test_bad_prices_are_400(self, client, admin_headers, change, message):
        body = _body()
        body["prices"][0].update(change)
        response = client.post(CREATE, body, format="json", **admin_headers)
        assert response.status_code == 400
        assert response.json() == error(message)
        assert not BillingPlan.objects.exists()
        assert not BillingPlanPrice.objects.exists()

    def test_anonymous_guests_and_users_are_refused(self, client, user):
        assert client.post(CREATE, _body(), format="json").json() == error(NOT_SIGNED_IN)
        guest = client.post(CREATE, _body(), format="json", **as_guest())
        assert (guest.status_code, guest.json()) == (401, error(NOT_SIGNED_IN))
        signed_in = client.post(CREATE, _body(), format="json", **as_user(user))
        assert (signed_in.status_code, signed_in.json()) == (403, error(FORBIDDEN))
        # An administration key is not enough: its owner needs the permission.
        moderator = client.post(CREATE, _body(), format="json", **as_admin_key(staff_with_role("moderator")))
        assert (moderator.status_code, moderator.json()) == (403, error(FORBIDDEN))
        assert not BillingPlan.objects.exists()
