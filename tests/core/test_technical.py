"""AIMG Technical endpoints: ingestLogs, getAffiliateAd, pgQuery — over HTTP, in the AIMG envelope."""

import logging
import random
from collections import Counter

import pytest
from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.core.domains import default_domain
from apps.core.models import AffiliateAd, SqlQueryAudit
from apps.core.services import ads
from tests.factories import DomainFactory, DomainHostFactory, StaffFactory, UserFactory


def error(message: str) -> dict:
    return {"hasError": True, "errorMessage": message, "payload": None}


def ok(payload) -> dict:
    return {"hasError": False, "errorMessage": None, "payload": payload}


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def guest_session(db):
    return accounts.create_session(domain=default_domain())


def session_header(session) -> dict:
    return {"HTTP_X_SESSION_ID": str(session.pk)}


# --- ingestLogs ---------------------------------------------------------------------------------------
@pytest.mark.django_db
class TestIngestLogs:
    url = "/ingestLogs"

    def test_entries_become_log_records_with_the_request_id(self, client, guest_session, caplog):
        body = {
            "logs": [
                {"message": "page loaded", "timestamp": 1_700_000_000_000},
                {
                    "message": "fetch failed\nsecond line",
                    "level": "error",
                    "apiSubscope": "library",
                    "httpMethod": "GET",
                    "httpPath": "getMyCreations",
                    "httpUrl": "https://example.com/getMyCreations?limit=5",
                    "errorName": "TypeError",
                    "errorMessage": "x is undefined",
                    "errorStack": "at f (app.js:1:2)",
                },
                {"message": "slow", "level": "warn"},
            ]
        }
        with caplog.at_level(logging.INFO, logger="atelier.frontend"):
            response = client.post(
                self.url, body, format="json", HTTP_X_REQUEST_ID="req-123", **session_header(guest_session)
            )
        assert response.status_code == 200
        assert response.json() == ok({"success": True})
        records = [r for r in caplog.records if r.name == "atelier.frontend"]
        assert [r.levelno for r in records] == [logging.INFO, logging.ERROR, logging.WARNING]
        assert all(r.request_id == "req-123" for r in records)
        assert all(r.service == "FrontEnd/Client/Atelier/development" for r in records)
        assert records[0].client_timestamp == 1_700_000_000_000
        assert records[1].client == {
            "apiSubscope": "library",
            "httpMethod": "GET",
            "httpPath": "getMyCreations",
            "httpUrl": "https://example.com/getMyCreations?limit=5",
            "errorName": "TypeError",
            "errorMessage": "x is undefined",
            "errorStack": "at f (app.js:1:2)",
        }
        # One entry is one line, whatever the message holds.
        assert "\n" not in records[1].getMessage()
        assert records[1].client_message == "fetch failed\nsecond line"
        assert records[0].session_id == str(guest_session.pk)

    def test_default_service_name_comes_from_the_request_domain(self, client, caplog):
        domain = DomainFactory(name="FreeJourney.ai", environment="staging")
        DomainHostFactory(domain=domain, hostname="staging-api.freejourney.test")
        session = accounts.create_session(domain=domain)
        with caplog.at_level(logging.INFO, logger="atelier.frontend"):
            response = client.post(
                self.url,
                {"logs": [{"message": "hi"}]},
                format="json",
                HTTP_HOST="staging-api.freejourney.test",
                **session_header(session),
            )
        assert response.status_code == 200
        (record,) = [r for r in caplog.records if r.name == "atelier.frontend"]
        assert record.service == "FrontEnd/Client/FreeJourney.ai/staging"

    def test_a_given_service_name_must_have_the_same_shape(self, client, guest_session, caplog):
        with caplog.at_level(logging.INFO, logger="atelier.frontend"):
            good = client.post(
                self.url,
                {"serviceName": "FrontEnd/Admin/Sexy.ai/production", "logs": [{"message": "x"}]},
                format="json",
                **session_header(guest_session),
            )
            bad = client.post(
                self.url,
                {"serviceName": "just-a-name", "logs": [{"message": "y"}]},
                format="json",
                **session_header(guest_session),
            )
        assert good.status_code == 200
        assert bad.status_code == 400
        assert bad.json()["hasError"] is True
        assert bad.json()["errorMessage"].startswith("serviceName: Must look like FrontEnd/Client/")
        messages = [r.client_message for r in caplog.records if r.name == "atelier.frontend"]
        assert messages == ["x"]

    def test_an_admin_key_is_enough(self, client, caplog):
        _, secret = accounts.create_admin_key(user=StaffFactory())
        response = client.post(
            self.url, {"logs": [{"message": "from ops"}]}, format="json", HTTP_X_ADMINISTRATION_KEY=secret
        )
        assert response.status_code == 200

    def test_no_session_and_no_key_is_401(self, client):
        response = client.post(self.url, {"logs": [{"message": "x"}]}, format="json")
        assert response.status_code == 401
        assert response.json()["hasError"] is True

    @pytest.mark.parametrize(
        ("entry", "field"),
        [
            ({"message": "x", "level": "debug"}, "logs.0.level"),
            ({"message": "x", "httpMethod": "TRACE"}, "logs.0.httpMethod"),
            ({"message": "x", "timestamp": "yesterday"}, "logs.0.timestamp"),
            ({"message": "x", "timestamp": -5}, "logs.0.timestamp"),
            ({"level": "info"}, "logs.0.message"),
            ({"message": "x" * (64 * 1024 + 1)}, "logs.0.message"),
        ],
    )
    def test_invalid_entries_are_400_and_nothing_is_logged(self, client, guest_session, caplog, entry, field):
        with caplog.at_level(logging.INFO, logger="atelier.frontend"):
            response = client.post(self.url, {"logs": [entry]}, format="json", **session_header(guest_session))
        assert response.status_code == 400
        assert response.json()["errorMessage"].startswith(f"{field}: ")
        assert not [r for r in caplog.records if r.name == "atelier.frontend"]

    def test_at_most_500_entries_and_at_least_one(self, client, guest_session):
        too_many = client.post(
            self.url, {"logs": [{"message": "x"}] * 501}, format="json", **session_header(guest_session)
        )
        assert too_many.status_code == 400
        assert too_many.json()["errorMessage"].startswith("logs: ")
        empty = client.post(self.url, {"logs": []}, format="json", **session_header(guest_session))
        assert empty.status_code == 400
        exactly = client.post(
            self.url, {"logs": [{"message": "x"}] * 500}, format="json", **session_header(guest_session)
        )
        assert exactly.status_code == 200


# --- getAffiliateAd -------------------------------------------------------------------------------------
@pytest.mark.django_db
class TestAffiliateAd:
    url = "/getAffiliateAd"

    def test_one_active_ad_of_the_domain(self, client):
        domain = default_domain()
        other = DomainFactory()
        AffiliateAd.objects.create(domain=domain, text="Try Pro", link="https://example.com/pro", weight=3)
        AffiliateAd.objects.create(domain=domain, text="Old", link="https://example.com/old", is_active=False)
        AffiliateAd.objects.create(domain=other, text="Elsewhere", link="https://other.example.com/")
        response = client.get(self.url)
        assert response.status_code == 200
        assert response.json() == ok({"adText": "Try Pro", "adLink": "https://example.com/pro"})

    def test_no_ad_is_404(self, client):
        response = client.get(self.url)
        assert response.status_code == 404
        assert response.json() == error("No affiliate ad is available for this site.")

    def test_weights_decide_how_often(self):
        domain = default_domain()
        AffiliateAd.objects.create(domain=domain, text="heavy", link="https://example.com/h", weight=9)
        AffiliateAd.objects.create(domain=domain, text="light", link="https://example.com/l", weight=1)
        rng = random.Random(7)
        counts = Counter(ads.pick_affiliate_ad(domain=domain, rng=rng).text for _ in range(2000))
        assert 0.85 < counts["heavy"] / 2000 < 0.95

    def test_a_weight_below_one_is_refused_by_the_database(self):
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            AffiliateAd.objects.create(domain=default_domain(), text="x", link="https://example.com/", weight=0)


# --- pgQuery --------------------------------------------------------------------------------------------
@pytest.fixture
def superuser_key(db):
    user = StaffFactory(is_superuser=True)
    _, secret = accounts.create_admin_key(user=user)
    return user, secret


def pg(client, secret, query, params=None):
    body = {"queryText": query}
    if params is not None:
        body["queryParams"] = params
    return client.post("/pgQuery", body, format="json", HTTP_X_ADMINISTRATION_KEY=secret)


@pytest.mark.django_db
class TestPgQueryAccess:
    def test_disabled_by_default(self, client, superuser_key, settings):
        settings.PGQUERY_ENABLED = False
        response = pg(client, superuser_key[1], "SELECT 1")
        assert response.status_code == 403
        assert response.json() == error("pgQuery is disabled on this deployment (PGQUERY_ENABLED).")

    def test_staff_that_is_not_superuser_is_refused(self, client, settings):
        settings.PGQUERY_ENABLED = True
        _, secret = accounts.create_admin_key(user=StaffFactory())
        response = pg(client, secret, "SELECT 1")
        assert response.status_code == 403
        assert response.json() == error("pgQuery needs the administration key of a superuser.")
        assert not SqlQueryAudit.objects.exists()

    def test_a_superusers_session_is_not_enough(self, client, settings):
        settings.PGQUERY_ENABLED = True
        user = UserFactory(is_staff=True, is_superuser=True)
        session = accounts.create_session(domain=default_domain(), user=user)
        response = client.post("/pgQuery", {"queryText": "SELECT 1"}, format="json", **session_header(session))
        assert response.status_code == 403

    def test_no_credentials_is_401(self, client, settings):
        settings.PGQUERY_ENABLED = True
        response = client.post("/pgQuery", {"queryText": "SELECT 1"}, format="json")
        assert response.status_code == 401

    def test_query_text_is_required(self, client, superuser_key, settings):
        settings.PGQUERY_ENABLED = True
        response = client.post("/pgQuery", {}, format="json", HTTP_X_ADMINISTRATION_KEY=superuser_key[1])
        assert response.status_code == 400
        assert response.json()["errorMessage"] == "queryText: This field is required."


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestPgQueryOnPostgres:
    @pytest.fixture(autouse=True)
    def _enabled(self, settings):
        settings.PGQUERY_ENABLED = True

    def test_select_answers_the_pg_result_shape_and_is_audited(self, client, superuser_key):
        user, secret = superuser_key
        response = pg(
            client,
            secret,
            "SELECT $1::int AS n, $2::text AS label, 9007199254740993::bigint AS big, "
            "1.50::numeric AS price, true AS flag, NULL::text AS nothing, '{\"a\": 1}'::jsonb AS doc",
            [41, "hello"],
        )
        assert response.status_code == 200, response.json()
        payload = response.json()["payload"]
        assert payload["command"] == "SELECT"
        assert payload["rowCount"] == 1
        assert payload["rows"] == [
            {
                "n": 41,
                "label": "hello",
                "big": "9007199254740993",
                "price": "1.50",
                "flag": True,
                "nothing": None,
                "doc": {"a": 1},
            }
        ]
        assert [f["name"] for f in payload["fields"]] == ["n", "label", "big", "price", "flag", "nothing", "doc"]
        assert payload["fields"][0]["dataTypeID"] == 23  # int4
        audit = SqlQueryAudit.objects.get()
        assert audit.user == user
        assert audit.succeeded is True
        assert audit.command == "SELECT"
        assert audit.row_count == 1
        assert audit.query_params == [41, "hello"]
        assert audit.admin_key_prefix == secret.split(".")[0]

    @pytest.mark.parametrize(
        "statement",
        [
            "INSERT INTO core_affiliatead (id, created_at, updated_at, domain_id, text, link, weight, is_active) "
            "SELECT gen_random_uuid(), now(), now(), id, 'x', 'https://x.example', 1, true FROM core_domain",
            "UPDATE core_domain SET name = 'hacked'",
            "DROP TABLE core_affiliatead",
            "SET TRANSACTION READ WRITE",
            "COMMIT; DROP TABLE core_affiliatead",
            "SELECT 1; UPDATE core_domain SET name = 'hacked'",
            "CREATE TABLE intruder (id int)",
        ],
    )
    def test_writes_fail_and_change_nothing(self, client, superuser_key, statement):
        names_before = list(default_domain().__class__.objects.values_list("name", flat=True))
        response = pg(client, superuser_key[1], statement)
        assert response.status_code == 400
        body = response.json()
        assert body["hasError"] is True
        assert body["errorMessage"].startswith("The query failed: ")
        from django.db import connection

        assert list(default_domain().__class__.objects.values_list("name", flat=True)) == names_before
        assert AffiliateAd.objects.count() == 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('core_affiliatead'), to_regclass('intruder')")
            assert cursor.fetchone() == ("core_affiliatead", None)
        audit = SqlQueryAudit.objects.get()
        assert audit.succeeded is False
        assert audit.error.startswith("The query failed: ")

    def test_statement_timeout_is_408(self, client, superuser_key, settings):
        settings.PGQUERY_STATEMENT_TIMEOUT_MS = 100
        response = pg(client, superuser_key[1], "SELECT pg_sleep(2)")
        assert response.status_code == 408
        assert response.json() == error("The query was stopped after 100 ms (statement timeout).")

    def test_rows_are_capped(self, client, superuser_key, settings):
        settings.PGQUERY_MAX_ROWS = 5
        response = pg(client, superuser_key[1], "SELECT generate_series(1, 50) AS n")
        payload = response.json()["payload"]
        assert [row["n"] for row in payload["rows"]] == [1, 2, 3, 4, 5]
        assert payload["rowCount"] == 5


@pytest.mark.django_db
def test_pgquery_without_postgresql_is_unavailable(client, superuser_key, settings, monkeypatch):
    from django.db import connections

    settings.PGQUERY_ENABLED = True
    settings.PGQUERY_DATABASE_URL = ""
    monkeypatch.setitem(connections["default"].settings_dict, "ENGINE", "django.db.backends.sqlite3")
    response = pg(client, superuser_key[1], "SELECT 1")
    assert response.status_code == 503
    assert response.json() == error("pgQuery needs a PostgreSQL database.")
