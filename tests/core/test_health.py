"""GET /health/: every dependency is checked; one failing check turns the answer into a 503."""

from unittest import mock

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db
URL = "/health/"


def test_all_checks_pass(api_client):
    response = api_client.get(URL)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"status", "checks"}
    assert body["status"] == "ok"
    checks = body["checks"]
    assert set(checks) == {"database", "cache", "broker", "storage"}
    assert all(check["ok"] is True for check in checks.values())
    assert all(isinstance(check["latency_ms"], float) for check in checks.values())

    expected_vendor = "postgresql" if settings.USING_POSTGRES else "sqlite"
    assert checks["database"] == {"ok": True, "vendor": expected_vendor, "latency_ms": mock.ANY}
    expected_cache = "RedisCache" if settings.USING_REDIS else "LocMemCache"
    assert checks["cache"] == {"ok": True, "backend": expected_cache, "latency_ms": mock.ANY}
    assert checks["storage"] == {"ok": True, "backend": "InMemoryStorage", "latency_ms": mock.ANY}
    # The test settings run tasks in-process, and the check says so.
    assert checks["broker"] == {
        "ok": True,
        "detail": "tasks run in-process (CELERY_TASK_ALWAYS_EAGER)",
        "latency_ms": mock.ANY,
    }


def test_storage_failure_is_a_503_with_the_failing_check_named(api_client, caplog):
    with mock.patch("apps.core.health.default_storage") as storage:
        storage.save.side_effect = OSError("No space left on device")
        response = api_client.get(URL)

    # Operators find the failure, with its traceback, in the logs.
    [record] = [r for r in caplog.records if r.name == "atelier.health"]
    assert (record.levelname, record.getMessage()) == ("WARNING", "Health check check_storage failed")
    assert isinstance(record.exc_info[1], OSError)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["storage"] == {
        "ok": False,
        "detail": "OSError: No space left on device",
        "latency_ms": mock.ANY,
    }
    assert [name for name, check in body["checks"].items() if not check["ok"]] == ["storage"]


def test_cache_failure_is_a_503(api_client):
    with mock.patch("apps.core.health.cache") as cache:
        cache.set.side_effect = ConnectionError("Connection refused")
        response = api_client.get(URL)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["cache"] == {
        "ok": False,
        "detail": "ConnectionError: Connection refused",
        "latency_ms": mock.ANY,
    }
    assert body["checks"]["database"]["ok"] is True


def test_cache_that_loses_values_is_a_503(api_client):
    with mock.patch("apps.core.health.cache") as cache:
        cache.get.return_value = None
        response = api_client.get(URL)

    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == {
        "ok": False,
        "detail": "a value written to the cache could not be read back",
        "latency_ms": mock.ANY,
    }


def test_database_failure_is_a_503(api_client):
    from django.db import OperationalError

    with mock.patch("apps.core.health.connection") as connection:
        connection.cursor.side_effect = OperationalError("server closed the connection unexpectedly")
        response = api_client.get(URL)

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {
        "ok": False,
        "detail": "OperationalError: server closed the connection unexpectedly",
        "latency_ms": mock.ANY,
    }


def test_health_needs_no_credentials_and_only_answers_get(api_client):
    response = api_client.post(URL)
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "POST" not allowed.'}
