import pytest
from django.conf import settings


def pytest_report_header(config):
    db = "PostgreSQL" if settings.USING_POSTGRES else f"SQLite ({settings.POSTGRES_SKIP_REASON})"
    cache = "Redis" if settings.USING_REDIS else "local memory (Redis not reachable)"
    return [f"atelier: database {db}; cache {cache}"]


def pytest_collection_modifyitems(config, items):
    if not settings.USING_POSTGRES:
        skip = pytest.mark.skip(reason=f"PostgreSQL-only test: {settings.POSTGRES_SKIP_REASON}")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)
    if not settings.USING_REDIS:
        skip = pytest.mark.skip(reason="needs Redis: none answers at REDIS_URL")
        for item in items:
            if "redis" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean_cache():
    """Each test starts with an empty cache (only this run's keys are removed from Redis)."""
    from django.core.cache import cache

    _clear(cache)
    yield
    _clear(cache)


def _clear(cache):
    if settings.USING_REDIS:
        client = cache._cache.get_client(write=True)
        prefix = settings.CACHES["default"]["KEY_PREFIX"]
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()
