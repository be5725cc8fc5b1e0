"""Celery entry points of the subjects app; they call services and nothing else."""

from celery import shared_task

from . import ingest


@shared_task(name="apps.subjects.tasks.ingest_base_images", acks_late=True)
def ingest_base_images(task_id: str) -> str | None:
    """Process a ZIP upload of base images (``SubjectBaseImagesUploadTask``); returns its status.
    The task records its own outcome (COMPLETED or FAILED with a message); running it again for a
    finished upload changes nothing."""
    task = ingest.run_upload(task_id)
    return task.status if task is not None else None
