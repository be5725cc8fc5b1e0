"""Clean-up of OCS tasks (beat task, ``cleanup_ocs_tasks`` command): tasks a week past their last
update go, with their images; lost textprocessing tasks are sent again; interrupted ones fail."""

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from apps.items.models import Item
from apps.text2image.models import GenerationJob, OcsTaskStatus, Text2ImageTask, TextProcessingTask
from apps.text2image.selectors.ocs import Requester
from apps.text2image.services import ocs as services
from apps.text2image.tasks.ocs import cleanup_ocs_tasks
from tests.text2image.ocs.support import ARTICLE, TOPICS

pytestmark = pytest.mark.django_db


def image_task(user, **changes) -> Text2ImageTask:
    task = services.schedule_image_task(
        requester=Requester(user=user), text="a fox", app_id="a", images=2, inline_budget=30
    )
    assert task.job.status == GenerationJob.Status.COMPLETED
    return task


def text_task(user, **changes) -> TextProcessingTask:
    task = services.schedule_text_task(
        requester=Requester(user=user), task_type=TOPICS, text=ARTICLE, app_id="a", inline_budget=30
    )
    if changes:
        TextProcessingTask.objects.filter(pk=task.pk).update(**changes)
    return task


def age(model, task, days: float):
    model.objects.filter(pk=task.pk).update(updated_at=timezone.now() - timedelta(days=days))


def test_the_beat_entry_runs_the_clean_up_hourly():
    entry = django_settings.CELERY_BEAT_SCHEDULE["text2image-cleanup-ocs-tasks"]
    assert entry == {"task": "apps.text2image.tasks.cleanup_ocs_tasks", "schedule": timedelta(hours=1)}
    assert cleanup_ocs_tasks.name == entry["task"]


def test_tasks_a_week_past_their_last_update_are_removed_with_their_images(user, ocs_model):
    old_image, recent_image = image_task(user), image_task(user)
    old_text, recent_text = text_task(user), text_task(user)
    age(Text2ImageTask, old_image, 8)
    GenerationJob.objects.filter(pk=old_image.job_id).update(finished_at=timezone.now() - timedelta(days=8))
    age(TextProcessingTask, old_text, 7.1)
    age(TextProcessingTask, recent_text, 6.9)

    assert cleanup_ocs_tasks.delay().get() == {"text2image": 1, "textprocessing": 1, "resent": 0, "failed": 0}
    assert list(Text2ImageTask.objects.values_list("pk", flat=True)) == [recent_image.pk]
    assert list(TextProcessingTask.objects.values_list("pk", flat=True)) == [recent_text.pk]
    old_items = Item.all_objects.filter(generation_id=str(old_image.job_id))
    assert old_items.count() == 2 and not old_items.filter(deleted_at__isnull=True).exists()
    assert Item.objects.filter(generation_id=str(recent_image.job_id)).count() == 2


def test_a_recent_job_update_keeps_an_old_task(user, ocs_model):
    """The last update of a text2image task is its own or its job's, whichever is later."""
    task = image_task(user)
    age(Text2ImageTask, task, 10)
    GenerationJob.objects.filter(pk=task.job_id).update(finished_at=timezone.now() - timedelta(days=1))
    assert services.cleanup_ocs_tasks().text2image == 0
    assert Text2ImageTask.objects.filter(pk=task.pk).exists()


def test_the_command_takes_the_retention_and_prints_what_it_did(user):
    task = text_task(user)
    age(TextProcessingTask, task, 2)
    out = StringIO()
    call_command("cleanup_ocs_tasks", stdout=out)
    assert TextProcessingTask.objects.filter(pk=task.pk).exists()
    call_command("cleanup_ocs_tasks", "--older-than-days", "1", stdout=out)
    assert not TextProcessingTask.objects.filter(pk=task.pk).exists()
    assert out.getvalue().splitlines()[-1] == (
        "Deleted 0 text2image and 1 textprocessing task(s); sent 0 waiting task(s) to the queue again; "
        "failed 0 interrupted task(s)."
    )


def test_the_retention_is_a_setting(user, settings):
    settings.OCS_TASK_RETENTION_DAYS = 1
    task = text_task(user)
    age(TextProcessingTask, task, 1.5)
    assert services.cleanup_ocs_tasks().textprocessing == 1


def test_a_run_that_died_fails_and_a_lost_message_is_sent_again(user, django_capture_on_commit_callbacks):
    long_ago = timezone.now() - timedelta(hours=2)
    interrupted = text_task(user, status=OcsTaskStatus.RUNNING, started_at=long_ago, output=None)
    with django_capture_on_commit_callbacks(execute=False):
        lost = services.schedule_text_task(
            requester=Requester(user=user), task_type=TOPICS, text=ARTICLE, app_id="a", inline_budget=0
        )
    TextProcessingTask.objects.filter(pk=lost.pk).update(updated_at=long_ago)
    fresh_running = text_task(user, status=OcsTaskStatus.RUNNING, started_at=timezone.now(), output=None)

    result = services.cleanup_ocs_tasks()
    assert (result.failed, result.resent) == (1, 1)
    interrupted.refresh_from_db()
    assert interrupted.status == OcsTaskStatus.FAILED
    assert interrupted.error_message == "The task was interrupted and was given up. Try again."
    lost.refresh_from_db()
    assert lost.status == OcsTaskStatus.SUCCESSFUL  # sent again (eager Celery here) and run
    fresh_running.refresh_from_db()
    assert fresh_running.status == OcsTaskStatus.RUNNING
