"""Readiness checks for /health/: database, cache, broker (and a worker), storage."""

import logging
import time
import uuid

from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

logger = logging.getLogger("atelier.health")


def _timed(fn) -> dict:
    started = time.monotonic()
    try:
        result = fn() or {}
        result.setdefault("ok", True)
    except Exception as exc:  # a failing dependency is reported, never raised
        logger.warning("Health check %s failed", fn.__qualname__.split(".")[0], exc_info=exc)
        result = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
    result["latency_ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def check_database() -> dict:
    def run():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}

    return _timed(run)


def check_cache() -> dict:
    def run():
        key, value = f"health:{uuid.uuid4().hex}", uuid.uuid4().hex
        cache.set(key, value, 30)
        found = cache.get(key)
        cache.delete(key)
        if found != value:
            return {"ok": False, "detail": "a value written to the cache could not be read back"}
        return {"ok": True, "backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}

    return _timed(run)


def check_storage() -> dict:
    def run():
        name = default_storage.save(f"health/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
        try:
            with default_storage.open(name) as handle:
                if handle.read() != b"ok":
                    return {"ok": False, "detail": "a file written to storage could not be read back"}
        finally:
            default_storage.delete(name)
        return {"ok": True, "backend": type(default_storage._wrapped).__name__}

    return _timed(run)


def check_broker() -> dict:
    """Connect to the broker, then send a task and wait for a worker to answer it.

    With no worker answering within HEALTH_WORKER_TIMEOUT the check fails only when
    HEALTH_REQUIRE_WORKER is set (a deployment that runs workers should set it).
    """
    from config.celery_app import app

    from .tasks import ping

    def run():
        if app.conf.task_always_eager:
            return {"ok": True, "detail": "tasks run in-process (CELERY_TASK_ALWAYS_EAGER)"}
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
            transport = conn.transport_cls
        remembered = cache.get(WORKER_CHECK_CACHE_KEY)
        if remembered is not None:
            return remembered
        result = _round_trip(ping, transport)
        cache.set(WORKER_CHECK_CACHE_KEY, result, settings.HEALTH_WORKER_CACHE_SECONDS)
        return result

    return _timed(run)


# A worker's answer is remembered for HEALTH_WORKER_CACHE_SECONDS, so frequent probes (load
# balancers) neither queue a task each nor each wait for a worker.
WORKER_CHECK_CACHE_KEY = "health:worker-round-trip"


def _round_trip(ping, transport: str) -> dict:
    """Send the ping task and wait for a worker's answer."""
    timeout = settings.HEALTH_WORKER_TIMEOUT
    sent = time.monotonic()
    result = ping.apply_async(args=[timezone.now().isoformat()], expires=timeout + 5)
    try:
        result.get(timeout=timeout, interval=0.1)
    except CeleryTimeout:
        return {
            "ok": not settings.HEALTH_REQUIRE_WORKER,
            "transport": transport,
            "worker": f"no worker answered within {timeout:g}s",
        }
    finally:
        result.forget()
    return {
        "ok": True,
        "transport": transport,
        "worker": "answered",
        "round_trip_ms": round((time.monotonic() - sent) * 1000, 1),
    }


def run_checks() -> dict:
    return {
        "database": check_database(),
        "cache": check_cache(),
        "broker": check_broker(),
        "storage": check_storage(),
    }
