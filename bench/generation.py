"""The generation engine's speed: procedural rendering, scheduling overhead, and worker throughput.

    DATABASE_URL=postgres://USER@HOST:5432/atelier_bench_generation \\
        python bench/generation.py [--jobs N] [--workers 1,2,4] [--renders R] [--requests Q] \\
        [--broker redis://127.0.0.1:6379/13]

The database must be one of its own (it is migrated; bench jobs and items are added to it). The
bench and its workers share one configuration (``config.settings.local`` from the environment),
a Redis broker, and a temporary media folder that is removed at the end. A bench model
(``bench-f222``, the procedural provider, no concurrency limit) gets a queue of its own per run.

Measured:
- procedural rendering of one 512x512 image at 20 steps (the provider alone), and the media
  pipeline that normalizes it and makes its thumbnail (median and p95 of ``--renders``);
- scheduling overhead: the API time of ``generateImage`` over HTTP (Django's test client,
  in-process) with no worker taking the job, so no provider time is in it (median and p95 of
  ``--requests``), and its number of queries;
- throughput through a real Celery worker on Redis with 1, 2 and 4 worker processes (prefork): a
  burst of ``--jobs`` jobs is scheduled while the worker runs; jobs/s from the first schedule to the
  last completion, and p50/p95 of each job's schedule-to-complete latency (``finished_at`` -
  ``queued_at``, both written by the database's clock of this machine).
"""

import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=200, help="jobs per worker run (default 200)")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts (default 1,2,4)")
    parser.add_argument("--renders", type=int, default=50, help="renders to time (default 50)")
    parser.add_argument("--requests", type=int, default=200, help="generateImage requests to time (default 200)")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13", help="Redis broker URL")
    return parser.parse_args()


ARGS = _arguments()
MEDIA = Path(tempfile.mkdtemp(prefix="atelier-bench-generation-"))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
os.environ["CELERY_BROKER_URL"] = ARGS.broker
os.environ["MEDIA_ROOT"] = str(MEDIA / "media")
os.environ["ATELIER_VAR_DIR"] = str(MEDIA / "var")
os.environ["GENERATION_WORKER_AUTO_QUEUES"] = "false"
os.environ["GENERATION_INLINE_BUDGET"] = "0"
os.environ.setdefault("LOG_LEVEL", "WARNING")
if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    sys.exit("Set DATABASE_URL to a PostgreSQL database of the bench's own.")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from apps.accounts import services as accounts  # noqa: E402
from apps.accounts.models import User  # noqa: E402
from apps.core.domains import default_domain  # noqa: E402
from apps.text2image.models import GenerationJob, GenerationModel  # noqa: E402
from apps.text2image.providers.base import GenerationRequest  # noqa: E402
from apps.text2image.providers.procedural import ProceduralProvider  # noqa: E402
from apps.text2image.services import catalogue, generation, jobs, outputs  # noqa: E402
from config.celery_app import app as celery_app  # noqa: E402

BENCH_MODEL = "bench-f222"
UNLIMITED = 30000


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def milliseconds(values):
    return f"median {statistics.median(values) * 1000:7.1f} ms   p95 {percentile(values, 0.95) * 1000:7.1f} ms"


def setup():
    call_command("migrate", verbosity=0)
    catalogue.load_default_models()
    shipped = GenerationModel.objects.get(model_id="f222")
    entry = {
        "modelID": BENCH_MODEL,
        "name": "Bench F222",
        "provider": "procedural",
        "enabled": True,
        "position": 1000,
        "queueName": f"bench-gen-{uuid.uuid4().hex[:8]}",
        "tier0Concurrent": UNLIMITED,
        "tier1Concurrent": UNLIMITED,
        "tier2Concurrent": UNLIMITED,
        "allowedWidths": shipped.allowed_widths,
        "allowedHeights": shipped.allowed_heights,
        "maxResolution": shipped.max_resolution,
        "defaultResolution": [512, 512],
    }
    catalogue.load_models(entries=[entry])
    user = User.objects.filter(email="bench-generation@bench.atelier.invalid").first()
    if user is None:
        user = User.objects.create_user(
            email="bench-generation@bench.atelier.invalid", username="bench-generation", domain=default_domain()
        )
    return GenerationModel.objects.get(model_id=BENCH_MODEL), user


def delete_queues(model):
    with celery_app.connection_for_write() as conn:
        client = conn.default_channel.client
        for name in (model.queue, model.priority_queue):
            keys = list(client.scan_iter(match=f"*{name}*"))
            if keys:
                client.delete(*keys)


def cancel_active(model):
    for job in GenerationJob.objects.filter(model_id=model.model_id, status__in=GenerationJob.ACTIVE):
        jobs.cancel_job(job=job)


# --- rendering -----------------------------------------------------------------------------------------


def bench_rendering(model):
    provider = ProceduralProvider({})
    renders, pipeline = [], []
    for index in range(ARGS.renders + 3):
        request = GenerationRequest(
            job_id="bench", model_id="bench", prompt=f"a lighthouse on a cliff at dusk, variant {index}", seed=index
        )
        start = time.perf_counter()
        result = provider.generate(request)
        rendered = time.perf_counter()
        outputs.prepare(GenerationJob(model_id=model.model_id), result)
        done = time.perf_counter()
        if index >= 3:  # warm-up
            renders.append(rendered - start)
            pipeline.append(done - rendered)
    return renders, pipeline


# --- scheduling ----------------------------------------------------------------------------------------


def bench_scheduling(model, user):
    session = accounts.create_session(domain=default_domain(), user=user)
    client = Client(HTTP_X_SESSION_ID=str(session.pk))
    body = {"prompt": "a fox in the snow", "modelName": model.model_id, "steps": 20}
    times, queries = [], []
    for index in range(ARGS.requests + 5):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.post("/generateImage", body, content_type="application/json")
            elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.content
        if index >= 5:
            times.append(elapsed)
            queries.append(len(captured.captured_queries))
    cancel_active(model)
    delete_queues(model)
    return times, queries


# --- workers -------------------------------------------------------------------------------------------


def start_worker(model, processes):
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config.celery_app",
        "worker",
        "-P",
        "prefork",
        "-c",
        str(processes),
        "-Q",
        f"{model.queue},{model.priority_queue}",
        "-n",
        f"bench-{uuid.uuid4().hex[:6]}@%h",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
        "--prefetch-multiplier",
        "1",
        "--loglevel",
        "WARNING",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL)  # noqa: S603


def wait_done(ids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not GenerationJob.objects.filter(pk__in=ids, status__in=GenerationJob.ACTIVE).exists():
            return True
        time.sleep(0.1)
    return False


def submit(model, user, count):
    parameters = generation.validate_parameters(model=model, values={"steps": 20})
    ids = []
    for index in range(count):
        job = jobs.schedule_job(
            owner=user,
            model=model,
            kind="image",
            raw_prompt=f"a glasshouse of orchids, number {index}",
            parameters=parameters,
        )
        ids.append(job.pk)
    return ids


def bench_workers(model, user, processes):
    worker = start_worker(model, processes)
    try:
        warm = submit(model, user, processes * 2)
        if not wait_done(warm, 120):
            raise SystemExit("The worker did not start within 120 s.")
        ids = submit(model, user, ARGS.jobs)
        if not wait_done(ids, 60 + ARGS.jobs * 2):
            raise SystemExit("The jobs did not complete in time.")
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
    rows = list(GenerationJob.objects.filter(pk__in=ids).values_list("status", "queued_at", "finished_at"))
    failed = sum(1 for status, _, _ in rows if status != "completed")
    first = min(queued for _, queued, _ in rows)
    last = max(finished for _, _, finished in rows)
    latencies = [(finished - queued).total_seconds() for _, queued, finished in rows]
    return {
        "jobs": len(rows),
        "failed": failed,
        "jobs_per_second": len(rows) / (last - first).total_seconds(),
        "p50": percentile(latencies, 0.5),
        "p95": percentile(latencies, 0.95),
    }


def main():
    model, user = setup()
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPU(s), PostgreSQL, broker {ARGS.broker}")
    try:
        renders, pipeline = bench_rendering(model)
        print(f"procedural render 512x512, 20 steps   {milliseconds(renders)}   ({len(renders)} renders)")
        print(f"media pipeline (normalize, thumbnail) {milliseconds(pipeline)}")
        times, queries = bench_scheduling(model, user)
        print(
            f"generateImage API (no provider)       {milliseconds(times)}   "
            f"({len(times)} requests, {statistics.median(queries):.0f} queries each)"
        )
        for processes in [int(value) for value in ARGS.workers.split(",") if value.strip()]:
            result = bench_workers(model, user, processes)
            print(
                f"worker x{processes} process(es): {result['jobs_per_second']:6.2f} jobs/s   "
                f"latency p50 {result['p50']:6.2f} s   p95 {result['p95']:6.2f} s   "
                f"({result['jobs']} jobs, {result['failed']} failed)"
            )
    finally:
        cancel_active(model)
        delete_queues(model)
        shutil.rmtree(MEDIA, ignore_errors=True)


if __name__ == "__main__":
    main()
