"""Test settings: PostgreSQL when it answers, SQLite otherwise; Redis cache when it answers."""

import os
import socket
from urllib.parse import urlparse

from .base import *  # noqa: F403
from .base import VAR_DIR, database_from_url, env


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdefghijklmnop"
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

TEST_DATABASE_URL = env.str("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/atelier")
if TEST_DATABASE_URL.startswith("postgres") and _reachable(TEST_DATABASE_URL, 5432):
    DATABASES = {"default": database_from_url(TEST_DATABASE_URL)}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}"}
    USING_POSTGRES = True
else:
    DATABASES = {"default": database_from_url(f"sqlite:///{VAR_DIR / 'test.sqlite3'}")}
    USING_POSTGRES = False
    POSTGRES_SKIP_REASON = f"PostgreSQL is not reachable at {urlparse(TEST_DATABASE_URL).netloc or 'its URL'}"

TEST_REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/15")
if _reachable(TEST_REDIS_URL, 6379):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": TEST_REDIS_URL,
            "KEY_PREFIX": f"atelier-test-{os.getpid()}",
        }
    }
    REDIS_URL = TEST_REDIS_URL
    USING_REDIS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test"}}
    REDIS_URL = ""
    USING_REDIS = False

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "cache+memory://"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
HEALTH_WORKER_TIMEOUT = 2.0
