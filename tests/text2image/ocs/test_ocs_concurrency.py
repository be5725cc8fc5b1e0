"""Exactly-once under concurrency: a textprocessing task delivered to several workers at once runs
once, and concurrent schedules never get past the rate limit."""

import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from apps.text2image.models import OcsTaskStatus, TextProcessingTask
from apps.text2image.providers.text import EmbeddedTextProvider
from apps.text2image.services import ocs as services
from apps.text2image.services import ocs_limits
from tests.text2image.ocs.support import ARTICLE, TOPICS

THREADS = 6


def run_together(target, count=THREADS) -> list:
    """Run ``target()`` in ``count`` threads released at once; their results (or exceptions)."""
    barrier = threading.Barrier(count, timeout=30)
    results: list = [None] * count

    def worker(index):
        try:
            barrier.wait()
            results[index] = target()
        except Exception as exc:  # reported to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_a_task_delivered_to_several_workers_runs_once(user, monkeypatch):
    task = TextProcessingTask.objects.create(
        owner=user,
        task_type=TOPICS,
        input=ARTICLE,
        app_id="a",
        status=OcsTaskStatus.SCHEDULED,
        provider="embedded",
        completion_expected_at=timezone.now(),
    )
    calls = []
    original = EmbeddedTextProvider.process

    def counted(self, task_type, text):
        calls.append(threading.get_ident())
        time.sleep(0.2)  # long enough for every other worker to try meanwhile
        return original(self, task_type, text)

    monkeypatch.setattr(EmbeddedTextProvider, "process", counted)
    results = run_together(lambda: services.run_text_task(task_id=task.pk))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(calls) == 1
    task.refresh_from_db()
    assert task.status == OcsTaskStatus.SUCCESSFUL and task.output


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_never_pass_the_limit():
    results = run_together(lambda: ocs_limits.attempt("race", limit=4, period=120), count=8)
    allowed = [result for result in results if result is True]
    assert len(allowed) == 4  # each attempt gets its own number: exactly the limit passes
    assert all(result in (True, False) for result in results)
    assert ocs_limits.count("race", period=120) == len(allowed)
    assert TextProcessingTask.objects.count() == 0
