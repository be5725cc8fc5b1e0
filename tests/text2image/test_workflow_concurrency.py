"""Workflow template imports at the same time: each template and group is created exactly once."""

import json
import threading

import pytest
from django.db import connection

from apps.text2image.models import WorkflowFileGroup, WorkflowFileGroupFile, WorkflowTemplate
from apps.text2image.services import catalogue
from apps.text2image.services import workflows as services

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 4
TIMEOUT = 60


def together(work, count=THREADS):
    """Run ``work(index)`` in ``count`` threads released at once; their results (or exceptions)."""
    barrier = threading.Barrier(count, timeout=TIMEOUT)
    results = [None] * count

    def target(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_concurrent_imports_of_one_file_create_each_template_once():
    catalogue.load_default_models()
    document = json.loads(services.DEMO_FIXTURE.read_text())
    reports = together(lambda _: services.import_templates(document=document))
    assert all(isinstance(report, services.ImportReport) for report in reports), reports
    assert sum(len(report.created) for report in reports) == 1
    assert sum(len(report.unchanged) for report in reports) == THREADS - 1
    assert WorkflowTemplate.all_objects.count() == 1
    assert WorkflowTemplate.objects.get().parameters.count() == 11
    assert WorkflowFileGroup.objects.count() == 1 and WorkflowFileGroupFile.objects.count() == 3
