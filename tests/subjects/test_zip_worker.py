"""A ZIP upload processed by a real Celery worker (through Redis): the task's progress is seen moving
while the worker runs, then the task completes."""

import itertools
import threading
import time
from unittest import mock

import pytest

from apps.subjects import ingest
from tests.core.test_celery import REDIS_URL, celery_using, needs_redis, worker

from .support import BASE, assert_task, jpeg, png, shot_type
from .zips import zip_bytes

pytestmark = [
    pytest.mark.slow,
    needs_redis,
    pytest.mark.django_db(transaction=True),
]


def poll(caller, task_id: str, until, *, attempts: int = 300) -> dict:
    """The task once ``until(task)`` holds (polling every 0.1 s, at most ``attempts`` times)."""
    for _ in range(attempts):
        task = caller.get(f"{BASE}/upload-tasks/{task_id}").json()
        if until(task):
            return task
        time.sleep(0.1)
    raise AssertionError(f"the task never reached the expected state: {task}")


def test_progress_is_seen_while_a_real_worker_runs(alice):
    shot_type(alice.user, "front_full_body")
    subject = alice.create()
    members = {"front_full_body.jpg": jpeg(), **{f"portfolio/{i}.png": png((i, i, i)) for i in range(7)}}
    reached, release = threading.Event(), threading.Event()
    calls = itertools.count(1)
    real_store = ingest.store_image

    def store_and_pause_at_the_third(*args, **kwargs):
        media = real_store(*args, **kwargs)
        if next(calls) == 3:
            reached.set()
            release.wait(timeout=60)
        return media

    with (
        mock.patch.object(ingest, "store_image", store_and_pause_at_the_third),
        celery_using(REDIS_URL, REDIS_URL),
        worker(),
    ):
        response = alice.upload_zip(zip_bytes(members), query=f"?subject_id={subject['id']}")
        assert response.status_code == 200, response.json()
        answered = response.json()
        assert_task(answered)
        assert answered["status"] == "PENDING"
        try:
            assert reached.wait(timeout=60), "the worker never reached the third image"
            running = alice.get(f"{BASE}/upload-tasks/{answered['id']}").json()
        finally:
            release.set()
        assert_task(running)
        assert running["status"] == "PROCESSING"
        assert running["started_at"] is not None and running["completed_at"] is None
        assert (running["total_items"], running["processed_items"]) == (8, 2)
        assert (running["images_processed"], running["portfolio_images_processed"]) == (1, 1)
        assert running["progress"] == 25
        assert len(running["result_data"]["portfolio_images"]) == 1
        done = poll(alice, answered["id"], lambda task: task["status"] in ("COMPLETED", "FAILED"))
    assert done["status"] == "COMPLETED", done
    assert (done["progress"], done["processed_items"], done["portfolio_images_processed"]) == (100, 8, 7)
    assert len(alice.get(f"{BASE}/{subject['id']}").json()["portfolio_images_media"]) == 7
