"""The generation path through real Celery workers on Redis.

- generateImage -> getItemStatus until completed -> getItemDetails, with a worker in this process;
- premium jobs start before earlier free jobs when one worker drains a queue it finds full;
- a worker process killed in the middle of a job: the message comes back (``acks_late``), another
  worker runs the job, and it completes once, with one set of items and files.
"""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from rest_framework.test import APIClient

from apps.core.models import FileObject
from apps.items.models import Item
from apps.text2image.models import GenerationJob
from config.celery_app import app as celery_app
from tests.core.test_celery import REDIS_URL, celery_using
from tests.factories import UserFactory

from .engine_support import answer_png, as_user, fake_server, schedule, subscribe

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition, *, timeout=60.0, step=0.2, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"Timed out after {timeout:g}s waiting for {what}")


def own_queues(model):
    """Queues of this test only, so that nothing else sharing the broker takes its messages."""
    model.queue_name = f"t2i-test-{uuid.uuid4().hex[:10]}"
    model.save()
    return [model.queue, model.priority_queue]


def delete_queues(names):
    with celery_app.connection_for_write() as conn:
        client = conn.default_channel.client
        for name in names:
            keys = list(client.scan_iter(match=f"*{name}*"))
            if keys:
                client.delete(*keys)


@contextmanager
def worker(queues):
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30, queues=queues
    ):
        yield


def test_generate_poll_and_read_the_item_through_a_real_worker(f222):
    queues = own_queues(f222)
    user = UserFactory(username="ada")
    client = APIClient()
    headers = as_user(user)
    with celery_using(REDIS_URL, REDIS_URL):
        try:
            with worker(queues):
                response = client.post("/generateImage", {"prompt": "a red fox", "seed": 5}, format="json", **headers)
                assert response.status_code == 200
                image_id = response.json()["payload"]["imageID"]

                def completed():
                    payload = client.get("/getItemStatus", {"imageID": image_id}, **headers).json()["payload"]
                    return payload if payload["status"] == "completed" else None

                status = wait_for(completed, what="the item to complete")
        finally:
            delete_queues(queues)
    item = Item.objects.get(pk=image_id)
    assert status == {
        "imageID": image_id,
        "status": "completed",
        "ignoredWords": "",
        "mtype": "image",
        "url": f"http://testserver/getFile?id={item.file_id}",
    }
    details = client.get("/getItemDetails", {"imageID": image_id}, **headers).json()["payload"]
    assert (details["id"], details["modelID"], details["seed"], details["prompt"]) == (image_id, "f222", 5, "a red fox")
    assert details["url"] == status["url"]
    assert client.get("/getFile", {"id": item.file_id}).status_code == 200
    job = GenerationJob.objects.get()
    assert (job.status, job.attempts, job.queue) == ("completed", 1, queues[0])


def test_premium_jobs_start_before_earlier_free_jobs_on_a_real_worker(f222):
    queues = own_queues(f222)
    f222.tier0_concurrent = f222.tier1_concurrent = 5
    f222.save()
    free, premium = UserFactory(), UserFactory()
    subscribe(premium, 1)
    with celery_using(REDIS_URL, REDIS_URL):
        try:
            # Everything is queued before the worker starts, free jobs first.
            free_jobs = [schedule(f222, owner=free, prompt=f"free {n}") for n in range(3)]
            premium_jobs = [schedule(f222, owner=premium, prompt=f"premium {n}") for n in range(2)]
            with worker(queues):
                wait_for(
                    lambda: GenerationJob.objects.filter(status="completed").count() == 5,
                    what="the five jobs to complete",
                )
        finally:
            delete_queues(queues)
    started = list(GenerationJob.objects.order_by("started_at").values_list("pk", flat=True))
    assert started == [job.pk for job in premium_jobs + free_jobs]


# --- crash recovery ------------------------------------------------------------------------------------


def worker_process(name, queues, media, *, lease, visibility):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.text2image.worker_settings",
        "ATELIER_WORKER_DB_NAME": connection.settings_dict["NAME"],
        "ATELIER_WORKER_BROKER_URL": REDIS_URL,
        "ATELIER_WORKER_MEDIA": str(media),
        "ATELIER_WORKER_LEASE": str(lease),
        "ATELIER_WORKER_VISIBILITY": str(visibility),
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config.celery_app",
        "worker",
        "-P",
        "solo",
        "-Q",
        ",".join(queues),
        "-n",
        f"{name}-{uuid.uuid4().hex[:6]}@%h",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
        "--loglevel=WARNING",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def test_a_worker_killed_mid_job_is_survived_and_the_job_completes_once(models, tmp_path):
    model = models["sd15-a1111"]
    model.enabled = True
    queues = own_queues(model)
    first_call_held = threading.Event()
    release = threading.Event()
    calls = []

    def a1111(method, path, body, headers):
        calls.append(path)
        if len(calls) == 1:
            first_call_held.set()
            release.wait(60)  # the first worker dies while it waits for this answer
        return answer_png(512, 512, seeds=[body["seed"]])

    with fake_server(a1111) as server:
        model.provider_config = {"base_url": server.url, "timeout": 120}
        model.save()
        first = second = None
        with celery_using(REDIS_URL, REDIS_URL):
            try:
                job = schedule(model, owner=UserFactory(), values={"seed": 9, "subseed": 1})
                first = worker_process("first", queues, tmp_path, lease=2, visibility=3)
                assert first_call_held.wait(90), "the first worker never called the provider"
                assert GenerationJob.objects.get(pk=job.pk).status == "running"
                first.send_signal(signal.SIGKILL)  # a crash: no clean shutdown, the message is unacknowledged
                first.wait(timeout=30)
                release.set()

                second = worker_process("second", queues, tmp_path, lease=2, visibility=3)
                wait_for(
                    lambda: GenerationJob.objects.get(pk=job.pk).status == "completed",
                    timeout=120,
                    what="the job to complete on the second worker",
                )
                time.sleep(4)  # a duplicate delivery, if any, would run now
            finally:
                release.set()
                for process in (first, second):
                    if process is not None:
                        stop(process)
                delete_queues(queues)
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("completed", 2)
    assert len(calls) == 2
    items = Item.all_objects.filter(generation_id=str(job.pk))
    assert [(item.status, item.seed) for item in items] == [("completed", 9)]
    assert FileObject.objects.filter(pk__startswith=f"t2i-{job.pk}").count() == 2  # the image and its thumbnail
    stored = FileObject.objects.get(pk=f"t2i-{job.pk}-0")
    assert (tmp_path / stored.storage_name).exists()
