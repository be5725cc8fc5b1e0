"""The broker check against real brokers: a worker started in-process answers the health ping
through Redis and through RabbitMQ; with no worker and HEALTH_REQUIRE_WORKER the check fails."""

import logging
import socket
import uuid
from contextlib import contextmanager
from unittest import mock
from urllib.parse import urlparse

import kombu.pools
import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as settings_module

from apps.core.context import current_request_id, request_id_var
from apps.core.health import check_broker
from apps.core.logging import RequestIdFilter
from config.celery_app import app as celery_app

REDIS_URL = "redis://127.0.0.1:6379/14"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=1):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not _reachable(REDIS_URL), reason=f"no Redis answers at {REDIS_URL}")
needs_rabbitmq = pytest.mark.skipif(not _reachable(RABBITMQ_URL), reason="no RabbitMQ answers at 127.0.0.1:5672")


def _drop_connections():
    """Forget pooled broker connections, queues, routes and the result backend so that new
    settings take effect."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.__dict__.pop("amqp", None)
    celery_app._backend_cache = None
    celery_app._local.__dict__.pop("backend", None)


def _delete_queue(queue: str):
    with celery_app.connection_for_write() as conn:
        channel = conn.default_channel
        if conn.transport_cls == "redis":  # the queue, its priority lists and its binding table
            keys = list(channel.client.scan_iter(match=f"*{queue}*"))
            if keys:
                channel.client.delete(*keys)
        elif conn.transport_cls == "amqp":
            channel.queue_delete(queue)
            channel.exchange_delete(queue)


@contextmanager
def celery_using(broker_url: str, result_backend: str, *, delete_queue: bool = True):
    """The project's Celery app, pointed at a real broker and result backend, tasks not eager.

    Tasks go to a queue of this test's own, so that nothing else sharing the broker (another test
    run, a developer's worker) takes them, and the queue is deleted afterwards.
    """
    queue = f"atelier-test-{uuid.uuid4().hex[:12]}"
    changes = {
        "broker_url": broker_url,
        "result_backend": result_backend,
        "broker_transport_options": {},
        "task_always_eager": False,
        "task_default_queue": queue,
        # No remote-control exchange left behind on the broker either.
        "worker_enable_remote_control": False,
    }
    saved = {key: celery_app.conf[key] for key in changes}
    # Settings come from Django under the CELERY_ namespace, and the namespaced name wins.
    celery_app.conf.update({f"CELERY_{key.upper()}": value for key, value in changes.items()})
    _drop_connections()
    try:
        yield celery_app
    finally:
        if delete_queue:
            _delete_queue(queue)
        _drop_connections()
        celery_app.conf.update({f"CELERY_{key.upper()}": value for key, value in saved.items()})
        _drop_connections()


@celery_app.task(name="tests.core.request_id_seen_by_worker")
def request_id_seen_by_worker():
    return current_request_id()


@contextmanager
def worker():
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        yield


def _assert_answered(result: dict, transport: str):
    assert result == {
        "ok": True,
        "transport": transport,
        "worker": "answered",
        "round_trip_ms": mock.ANY,
        "latency_ms": mock.ANY,
    }
    assert 0 < result["round_trip_ms"] <= result["latency_ms"]


def _request_id_handlers():
    return [h for h in logging.getLogger().handlers if any(isinstance(f, RequestIdFilter) for f in h.filters)]


@pytest.mark.slow
@needs_redis
def test_worker_answers_through_redis(settings):
    settings.HEALTH_WORKER_TIMEOUT = 20.0
    with celery_using(REDIS_URL, REDIS_URL), worker():
        result = check_broker()
    _assert_answered(result, "redis")


@pytest.mark.slow
@needs_rabbitmq
@needs_redis
def test_worker_answers_through_rabbitmq(settings):
    settings.HEALTH_WORKER_TIMEOUT = 20.0
    with celery_using(RABBITMQ_URL, REDIS_URL), worker():
        result = check_broker()
    _assert_answered(result, "amqp")


@pytest.mark.slow
@needs_redis
def test_the_request_id_travels_with_the_task(settings):
    with celery_using(REDIS_URL, REDIS_URL), worker():
        token = request_id_var.set("req-from-the-web")
        try:
            result = request_id_seen_by_worker.delay()
        finally:
            request_id_var.reset(token)
        untagged = request_id_seen_by_worker.delay()
        try:
            assert result.get(timeout=20) == "req-from-the-web"
            assert untagged.get(timeout=20) == f"task-{untagged.id}"
        finally:
            result.forget()
            untagged.forget()


def test_celery_logging_setup_keeps_djangos_handlers():
    """A worker started by `celery worker` sets up logging after Django did; it must not replace
    Django's handlers (request ids, the JSON format) with its own."""
    log = type(celery_app.log)
    was_set_up = log._setup
    log._setup = False
    try:
        celery_app.log.setup_logging_subsystem(loglevel="INFO")
    finally:
        log._setup = was_set_up
    handlers = _request_id_handlers()
    assert len(handlers) == 1
    assert handlers[0].formatter._fmt == settings_module.LOGGING["formatters"]["text"]["format"]


def test_an_eager_task_keeps_the_callers_request_id():
    token = request_id_var.set("req-eager")
    try:
        assert request_id_seen_by_worker.delay().get() == "req-eager"
    finally:
        request_id_var.reset(token)
    assert current_request_id() == "-"


@pytest.mark.parametrize(
    ("broker", "backend", "transport"),
    [
        pytest.param("memory://", "cache+memory://", "memory", id="memory"),
        pytest.param(REDIS_URL, REDIS_URL, "redis", id="redis", marks=[pytest.mark.slow, needs_redis]),
    ],
)
def test_no_worker_fails_the_check_when_a_worker_is_required(settings, broker, backend, transport):
    settings.HEALTH_REQUIRE_WORKER = True
    settings.HEALTH_WORKER_TIMEOUT = 0.3
    with celery_using(broker, backend):
        result = check_broker()
    assert result == {
        "ok": False,
        "transport": transport,
        "worker": "no worker answered within 0.3s",
        "latency_ms": mock.ANY,
    }


def test_no_worker_is_only_reported_when_a_worker_is_optional(settings):
    settings.HEALTH_REQUIRE_WORKER = False
    settings.HEALTH_WORKER_TIMEOUT = 0.3
    with celery_using("memory://", "cache+memory://"):
        result = check_broker()
    assert result["ok"] is True
    assert result["worker"] == "no worker answered within 0.3s"


@pytest.mark.django_db
def test_health_is_503_when_the_required_worker_is_missing(api_client, settings):
    settings.HEALTH_REQUIRE_WORKER = True
    settings.HEALTH_WORKER_TIMEOUT = 0.3
    with celery_using("memory://", "cache+memory://"):
        response = api_client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["worker"] == "no worker answered within 0.3s"
    assert all(body["checks"][name]["ok"] for name in ("database", "cache", "storage"))


def test_unreachable_broker_fails_the_check():
    with celery_using("redis://127.0.0.1:1/0", "cache+memory://", delete_queue=False):
        result = check_broker()
    assert result["ok"] is False
    assert result["detail"].startswith(("OperationalError", "ConnectionRefusedError"))


def test_the_worker_answer_is_remembered_between_probes(settings):
    settings.HEALTH_REQUIRE_WORKER = True
    settings.HEALTH_WORKER_TIMEOUT = 0.3
    settings.HEALTH_WORKER_CACHE_SECONDS = 60
    with celery_using("memory://", "cache+memory://"), mock.patch("apps.core.health._round_trip") as round_trip:
        round_trip.return_value = {"ok": True, "transport": "memory", "worker": "answered", "round_trip_ms": 1.0}
        first = check_broker()
        second = check_broker()
    assert round_trip.call_count == 1
    assert first["worker"] == second["worker"] == "answered"


def test_a_remembered_answer_expires(settings):
    settings.HEALTH_REQUIRE_WORKER = True
    settings.HEALTH_WORKER_TIMEOUT = 0.3
    settings.HEALTH_WORKER_CACHE_SECONDS = 0
    with celery_using("memory://", "cache+memory://"):
        check_broker()
        with mock.patch("apps.core.health._round_trip", wraps=lambda *a: {"ok": True, "worker": "x"}) as round_trip:
            check_broker()
    assert round_trip.call_count == 1
