"""Production settings: `manage.py check --deploy` is clean with the documented variables, a weak
secret key is refused, and logs are one JSON object per line with the request id."""

import json
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _secret_key() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(60))


@pytest.fixture
def production_env(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "SECURE_", "STORAGE_", "S3_", "LOG_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=_secret_key(),
        ALLOWED_HOSTS="api.example.com,studio.example.com",
        DATABASE_URL="postgres://atelier:secret@127.0.0.1:5432/atelier",
        REDIS_URL="redis://127.0.0.1:6379/0",
        CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//",
        STORAGE_BACKEND="s3",
        S3_BUCKET="atelier-media",
        S3_ENDPOINT_URL="https://s3.example.com",
        S3_ACCESS_KEY_ID="access-key",
        S3_SECRET_ACCESS_KEY="secret-key",
        ATELIER_VAR_DIR=str(tmp_path / "var"),
    )
    return env


def _run(args, env):
    return subprocess.run(  # noqa: S603 - fixed arguments, the test's own interpreter
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_check_deploy_is_clean(production_env):
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "ERRORS" not in output
    assert "WARNINGS" not in output
    assert "System check identified no issues" in output


@pytest.mark.slow
def test_preload_is_an_opt_in_that_check_deploy_accepts(production_env):
    production_env["SECURE_HSTS_PRELOAD"] = "true"
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_an_insecure_hsts_setting_is_reported(production_env):
    production_env["SECURE_HSTS_SECONDS"] = "0"
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env)
    assert result.returncode == 1
    assert "security.W004" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("key", ["short-but-random-Zx81", "insecure-" + "x" * 60])
def test_a_weak_secret_key_is_refused(production_env, key):
    production_env["SECRET_KEY"] = key
    result = _run(["manage.py", "check", "--deploy"], production_env)
    assert result.returncode != 0
    assert "SECRET_KEY must be a random string of at least 50 characters" in result.stderr


@pytest.mark.slow
def test_hosts_are_required(production_env):
    del production_env["ALLOWED_HOSTS"]
    result = _run(["manage.py", "check", "--deploy"], production_env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


@pytest.mark.slow
def test_production_logs_are_json_lines_with_the_request_id(production_env):
    script = (
        "import logging, django; django.setup()\n"
        "from apps.core.context import request_id_var\n"
        "request_id_var.set('req-prod-1')\n"
        "logging.getLogger('atelier.deploy').warning('ready on %s', 'api.example.com')\n"
    )
    result = _run(["-c", script], production_env)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    entry = json.loads(lines[0])
    assert set(entry) == {"time", "level", "logger", "message", "request_id"}
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "atelier.deploy"
    assert entry["message"] == "ready on api.example.com"
    assert entry["request_id"] == "req-prod-1"
