"""The production packaging: the compose file, the image and the gunicorn settings hang together."""

import importlib.util
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
COMPOSE = ROOT / "deploy" / "docker-compose.yml"


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_runs_every_process_and_service():
    services = _compose()["services"]
    assert {"web", "worker", "beat", "migrate", "db", "redis", "s3", "s3-bucket"} <= set(services)
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"][:3] == ["celery", "-A", "config"]
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]
    # Exactly one beat: it is the only service running celery beat.
    beats = [name for name, svc in services.items() if "beat" in " ".join(map(str, svc.get("command", [])))]
    assert beats == ["beat"]


def test_compose_settings_are_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    environment = _compose()["x-atelier"]["environment"]
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", readme, re.M))
    undocumented = {name for name in environment if name not in documented and name != "DJANGO_SETTINGS_MODULE"}
    assert not undocumented, f"compose sets settings the README does not document: {sorted(undocumented)}"


def test_gunicorn_settings_load_and_follow_the_environment(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("GUNICORN_THREADS", "4")
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "deploy" / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    assert conf.workers == 3
    assert conf.threads == 4
    assert conf.worker_class == "gthread"
    assert conf.bind == "0.0.0.0:8000"


def test_dockerfile_runs_gunicorn_with_those_settings_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "deploy/gunicorn.conf.py" in dockerfile
    assert re.search(r"^USER atelier$", dockerfile, re.M)
    assert "requirements/prod.txt" in dockerfile
