"""Celery tasks of the OCS APIs: running textprocessing tasks, and the hourly clean-up.

``run_textprocessing_task`` is ``acks_late``; the service claims the task with a conditional UPDATE,
so a message delivered twice never runs a task twice. A transient provider failure (the language
model server is down, answers 429 or 5xx) is retried with backoff; the last attempt ends the task
as failed with the provider's message. (Text2image tasks run as generation jobs:
``run_generation_job``.)
"""

from celery import shared_task

from ..services import ocs

__all__ = ["cleanup_ocs_tasks", "run_textprocessing_task"]

MAX_RETRIES = 3


@shared_task(
    bind=True,
    name="apps.text2image.tasks.run_textprocessing_task",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def run_textprocessing_task(self, task_id: int) -> dict:
    try:
        task = ocs.run_text_task(task_id=task_id, final_attempt=self.request.retries >= MAX_RETRIES)
    except ocs.RetryLater as exc:
        raise self.retry(exc=exc, countdown=min(60, 5 * 2**self.request.retries)) from exc
    if task is None:
        return {"task": task_id, "status": None}
    return {"task": task_id, "status": task.status}


@shared_task(name="apps.text2image.tasks.cleanup_ocs_tasks")
def cleanup_ocs_tasks() -> dict:
    return ocs.cleanup_ocs_tasks().as_dict()
