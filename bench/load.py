"""Load: a realistic request mix against a real gunicorn, on loopback, bounded in count and time.

    BENCH_DATABASE_URL=postgres://USER@127.0.0.1:5432/atelier_load python bench/load.py \
        [--workers 1 4] [--seconds 30] [--clients 8] [--max-requests 50000] [--users 40] [--items 30]

What runs: the production settings (``config.settings.production``, DEBUG off) on PostgreSQL
(``BENCH_DATABASE_URL``, migrated, bench rows added) and Redis (``BENCH_REDIS_URL``, default
``redis://127.0.0.1:6379/14``: cache and rate-limit counters; db 13 is the Celery broker), media on
the local file system in a temporary folder; gunicorn with ``-w N`` for each N of ``--workers``
(sync workers, ``127.0.0.1`` only) and one Celery worker (2 processes) running the procedural
provider. Rate limits are off (one client address sends everything).

The mix, per client (each client is one signed-in user with its own session and Basic credential),
chosen at random with these weights:

- 30 getPublicCreations (a page of 50), 15 getMyCreations (50), 15 getItemDetails, 10 likeItems;
- 10 generation: ``generateImage`` (512x512, procedural) when the client has no generation
  running, else ``getItemStatus`` of its running one;
- 10 OCS: ``text2image/schedule`` (one image) when the client has no OCS task running, else
  ``GET task/{id}``;
- 10 getModels.

Reported per endpoint and in total: requests, throughput (requests/s), p50/p95/p99 latency (ms) and
errors (any 5xx, or a 4xx the mix did not expect). Closed loop: each client sends its next request
when the previous answer arrived, so the rate is what the server sustains at that concurrency.
"""

import argparse
import base64
import http.client
import json
import os
import platform
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Bench-load-password-1"  # noqa: S105 - bench users on a throw-away database
PORT = 8765


def environment(tmp: Path) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": "bench-" + secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/atelier_load"),
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
            "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13"),
            "CELERY_RESULT_BACKEND": "django-db",
            "STORAGE_BACKEND": "local",
            "ATELIER_VAR_DIR": str(tmp),
            "MEDIA_ROOT": str(tmp / "media"),
            "RATELIMIT_ENABLE": "false",
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "text",
        }
    )
    return env


def prepare(env: dict, users: int, items: int) -> list[dict]:
    """Migrate, load the catalogue, and create the bench users, their sessions and public items."""
    code = f"""
import json, uuid
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("seed_demo", verbosity=0)
from django.utils import timezone
from apps.accounts import services as accounts
from apps.accounts.models import User
from apps.core.domains import default_domain
from apps.folders import services as folders
from apps.items.models import Item
domain = default_domain()
out = []
for n in range({users}):
    email = f"load{{n}}@bench.atelier.invalid"
    user = User.objects.filter(email=email, domain=domain).first()
    if user is None:
        session = accounts.create_user(domain=domain, email=email, password={PASSWORD!r}, username=f"load{{n}}")
        user = session.user
    else:
        session = accounts.create_session(domain=domain, user=user)
    if not Item.objects.filter(owner=user).exists():
        now = timezone.now()
        rows = [
            Item(owner=user, prompt=f"bench item {{n}}-{{i}}", raw_prompt=f"bench item {{n}}-{{i}}",
                 completed_at=now, reference_at=now - timezone.timedelta(seconds=i), width=512, height=512,
                 model="f222", model_name="f222", public_approval_status="approved", is_public=True)
            for i in range({items})
        ]
        Item.objects.bulk_create(rows)
        folder = folders.create_folder(owner=user, name="Bench", is_public=True)
        folders.add_items(folder=folder, item_ids=[row.pk for row in rows])
    ids = [str(pk) for pk in Item.objects.filter(owner=user).values_list("pk", flat=True)[:{items}]]
    out.append({{"email": email, "session": str(session.pk), "items": ids}})
print("BENCH-USERS " + json.dumps(out))
"""
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"setup failed:\n{result.stdout}\n{result.stderr}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH-USERS "))
    return json.loads(line.removeprefix("BENCH-USERS "))


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def wait_ready(deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/getModels", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit("gunicorn did not answer in time")


class Client(threading.Thread):
    """One user sending the mix in a closed loop over one keep-alive connection."""

    WEIGHTS = {
        "browse_public": 30,
        "browse_mine": 15,
        "details": 15,
        "like": 10,
        "generate": 10,
        "ocs": 10,
        "models": 10,
    }

    def __init__(self, user: dict, stop_at: float, budget, record):
        super().__init__(daemon=True)
        self.user, self.stop_at, self.budget, self.record = user, stop_at, budget, record
        self.rng = random.Random(user["email"])  # a load mix, not security
        self.generating = None
        self.ocs_task = None
        basic = base64.b64encode(f"{user['email']}:{PASSWORD}".encode()).decode()
        self.aimg = {"X-Session-ID": user["session"], "Host": "127.0.0.1", "Content-Type": "application/json"}
        self.ocs_headers = {"Authorization": f"Basic {basic}", "OCS-APIRequest": "true", "Host": "127.0.0.1"}

    def call(self, name, method, path, headers, body=None, expect=(200,)):
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
            status, data = 599, b""
        self.record(name, time.perf_counter() - started, status not in expect)
        return status, data

    def run(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        names, weights = zip(*self.WEIGHTS.items(), strict=True)
        while time.monotonic() < self.stop_at and self.budget():
            getattr(self, self.rng.choices(names, weights)[0])()
        self.conn.close()

    def browse_public(self):
        self.call("getPublicCreations", "GET", "/getPublicCreations?limit=50", self.aimg)

    def browse_mine(self):
        self.call("getMyCreations", "GET", "/getMyCreations?limit=50", self.aimg)

    def details(self):
        item = self.rng.choice(self.user["items"])
        self.call("getItemDetails", "GET", f"/getItemDetails?imageID={item}", self.aimg)

    def like(self):
        item = self.rng.choice(self.user["items"])
        self.call("likeItems", "POST", "/likeItems", self.aimg, {"imageIDs": [item]})

    def models(self):
        self.call("getModels", "GET", "/getModels", self.aimg)

    def generate(self):
        if self.generating is None:
            body = {"prompt": f"a lighthouse at dusk {self.rng.randint(0, 10**6)}", "width": 512, "height": 512}
            status, data = self.call("generateImage", "POST", "/generateImage", self.aimg, body)
            if status == 200:
                self.generating = json.loads(data)["payload"]["imageID"]
            return
        status, data = self.call("getItemStatus", "GET", f"/getItemStatus?imageID={self.generating}", self.aimg)
        if status == 200 and json.loads(data)["payload"]["status"] in ("completed", "failed"):
            self.generating = None

    def ocs(self):
        if self.ocs_task is None:
            body = {"input": "a quiet harbour", "appId": "bench", "numberOfImages": 1, "identifier": str(uuid.uuid4())}
            headers = {**self.ocs_headers, "Content-Type": "application/json", "Accept": "application/json"}
            status, data = self.call("ocs schedule", "POST", "/ocs/v2.php/text2image/schedule", headers, body)
            if status == 200:
                task = json.loads(data)["ocs"]["data"]["task"]
                self.ocs_task = None if task["status"] in (3, 4) else task["id"]
            return
        headers = {**self.ocs_headers, "Accept": "application/json"}
        status, data = self.call("ocs task", "GET", f"/ocs/v2.php/text2image/task/{self.ocs_task}", headers)
        if status == 200 and json.loads(data)["ocs"]["data"]["task"]["status"] in (3, 4):
            self.ocs_task = None


def run_load(users: list[dict], clients: int, seconds: float, max_requests: int) -> dict:
    samples = defaultdict(list)
    errors = defaultdict(int)
    lock = threading.Lock()
    count = [0]

    def record(name, elapsed, failed):
        with lock:
            samples[name].append(elapsed)
            count[0] += 1
            if failed:
                errors[name] += 1

    def budget():
        return count[0] < max_requests

    stop_at = time.monotonic() + seconds
    threads = [Client(users[i % len(users)], stop_at, budget, record) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.perf_counter() - started
    return {"elapsed": elapsed, "samples": dict(samples), "errors": dict(errors)}


def quantile(values, q):
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(workers: int, result: dict) -> None:
    elapsed = result["elapsed"]
    total = sum(len(v) for v in result["samples"].values())
    print(f"\n## gunicorn -w {workers}: {total} requests in {elapsed:.1f} s = {total / elapsed:.1f} req/s")
    print("| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in sorted(result["samples"]):
        values = sorted(result["samples"][name])
        print(
            f"| {name} | {len(values)} | {len(values) / elapsed:.1f} | {quantile(values, 50) * 1000:.1f} | "
            f"{quantile(values, 95) * 1000:.1f} | {quantile(values, 99) * 1000:.1f} | "
            f"{result['errors'].get(name, 0)} |"
        )
    print(f"errors in total: {sum(result['errors'].values())}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max-requests", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--items", type=int, default=30)
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="atelier-load-") as tmp:
        env = environment(Path(tmp))
        users = prepare(env, args.users, args.items)
        print(f"{len(users)} users with {args.items} public items each; {args.clients} clients, {args.seconds:.0f} s")
        worker = start(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING", "--concurrency=2"],
            env,
            Path(tmp) / "worker.log",
        )
        try:
            for workers in args.workers:
                web = start(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "config.wsgi",
                        "--config",
                        "deploy/gunicorn.conf.py",
                        "--bind",
                        f"127.0.0.1:{PORT}",
                        "--workers",
                        str(workers),
                        "--access-logfile",
                        "/dev/null",
                    ],
                    env,
                    Path(tmp) / f"gunicorn-{workers}.log",
                )
                try:
                    wait_ready(time.monotonic() + 60)
                    report(workers, run_load(users, args.clients, args.seconds, args.max_requests))
                finally:
                    stop(web)
        finally:
            stop(worker)


if __name__ == "__main__":
    main()
