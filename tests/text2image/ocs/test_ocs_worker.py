"""Inline versus background execution through a real Celery worker (Redis broker, a worker started
in this process): a task that fits the inline budget is answered finished by ``schedule``; one that
does not is answered scheduled (status 1) and a worker finishes it, for textprocessing tasks and for
text2image tasks (whose generation job goes to the model's queue)."""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from apps.text2image.models import Text2ImageTask, TextProcessingTask
from config.celery_app import app as celery_app
from tests.core.test_celery import REDIS_URL, _delete_queue, celery_using, needs_redis
from tests.text2image.ocs.support import (
    ARTICLE,
    OCS_HEADER,
    SUMMARY,
    basic_for,
    ocs_json,
    url,
)

pytestmark = [pytest.mark.slow, needs_redis, pytest.mark.django_db(transaction=True)]


def wait_for(fetch, *, timeout=60.0):
    """Poll ``fetch()`` (a task dict) until its status is final; the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        task = fetch()
        if task["status"] in (3, 4) or time.monotonic() > deadline:
            return task
        time.sleep(0.2)


def test_textprocessing_inline_then_through_a_worker(client, user, settings):
    inline = ocs_json(
        client.post(
            url(2, "textprocessing/schedule?format=json"),
            {"input": ARTICLE, "type": SUMMARY, "appId": "assistant"},
            format="json",
            **OCS_HEADER,
            **basic_for(user),
        )
    )["data"]["task"]
    assert inline["status"] == 3  # the built-in provider fits the budget: done during the request

    settings.OCS_INLINE_SHARE = 0  # now nothing fits: the worker runs it
    with celery_using(REDIS_URL, REDIS_URL) as app:
        queue = app.conf["CELERY_TASK_DEFAULT_QUEUE"]
        with start_worker(
            celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30, queues=[queue]
        ):
            queued = ocs_json(
                client.post(
                    url(2, "textprocessing/schedule?format=json"),
                    {"input": ARTICLE, "type": SUMMARY, "appId": "assistant"},
                    format="json",
                    **OCS_HEADER,
                    **basic_for(user),
                )
            )["data"]["task"]
            assert (queued["status"], queued["output"]) == (1, None)

            def fetch():
                response = client.get(
                    url(2, f"textprocessing/task/{queued['id']}?format=json"), **OCS_HEADER, **basic_for(user)
                )
                return ocs_json(response)["data"]["task"]

            done = wait_for(fetch)
    assert done["status"] == 3
    assert done["output"] == inline["output"]  # the same text, the same deterministic summary
    assert TextProcessingTask.objects.get(pk=queued["id"]).finished_at is not None


def test_text2image_inline_then_through_a_worker(client, user, ocs_model, settings):
    ocs_model.queue_name = f"ocs-test-{uuid.uuid4().hex[:10]}"
    ocs_model.save(update_fields=["queue_name"])
    payload = {"input": "a lighthouse", "appId": "assistant", "numberOfImages": 2}
    inline = ocs_json(
        client.post(url(2, "text2image/schedule?format=json"), payload, format="json", **OCS_HEADER, **basic_for(user))
    )["data"]["task"]
    assert inline["status"] == 3

    settings.OCS_INLINE_SHARE = 0
    with celery_using(REDIS_URL, REDIS_URL) as app:
        queues = [app.conf["CELERY_TASK_DEFAULT_QUEUE"], ocs_model.queue]
        try:
            with start_worker(
                celery_app,
                pool="solo",
                perform_ping_check=False,
                loglevel="WARNING",
                shutdown_timeout=30,
                queues=queues,
            ):
                queued = ocs_json(
                    client.post(
                        url(2, "text2image/schedule?format=json"),
                        payload,
                        format="json",
                        **OCS_HEADER,
                        **basic_for(user),
                    )
                )["data"]["task"]
                assert queued["status"] == 1
                job = Text2ImageTask.objects.select_related("job").get(pk=queued["id"]).job
                assert job.queue == ocs_model.queue

                def fetch():
                    response = client.get(
                        url(2, f"text2image/task/{queued['id']}?format=json"), **OCS_HEADER, **basic_for(user)
                    )
                    return ocs_json(response)["data"]["task"]

                done = wait_for(fetch)
        finally:
            _delete_queue(ocs_model.queue)
    assert done["status"] == 3
    for index in range(2):
        image = client.get(url(2, f"text2image/task/{queued['id']}/image/{index}"), **OCS_HEADER, **basic_for(user))
        assert image.status_code == 200 and image["Content-Type"].startswith("image/")
