"""Celery tasks of the generation engine: running jobs and reaping stuck ones.

``run_generation_job`` is sent once per scheduled job, on the model's queue (or its ``-p1-``
priority queue). It is ``acks_late`` and rejected back to the broker when its worker dies, and the
job service claims jobs with a conditional UPDATE, so a message delivered twice never runs a job
twice.

Workers consume the queues given with ``-Q``. A worker that consumes the default queue (no ``-Q``,
as the Procfile starts it) also takes every enabled model's queues when it starts, unless
GENERATION_WORKER_AUTO_QUEUES is false (dedicated GPU workers name their queues with ``-Q``).
"""

import logging

from celery import shared_task
from celery.signals import celeryd_after_setup

from ..services import jobs

__all__ = ["reap_generation_jobs", "run_generation_job"]

logger = logging.getLogger("atelier.generation")


@shared_task(
    bind=True,
    name="apps.text2image.tasks.run_generation_job",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
)
def run_generation_job(self, job_id: str) -> dict:
    outcome = jobs.run_next_job(job_id=job_id)
    if outcome.retry_in is not None and not self.request.is_eager:
        # Our own job is held by another run: come back when its lease ends, in case that run died.
        raise self.retry(countdown=outcome.retry_in)
    if outcome.job is None:
        return {"job": None}
    return {"job": str(outcome.job.pk), "status": outcome.job.status}


@shared_task(name="apps.text2image.tasks.reap_generation_jobs")
def reap_generation_jobs() -> dict:
    return jobs.reap_jobs().as_dict()


@celeryd_after_setup.connect
def _consume_generation_queues(sender, instance, conf, **kwargs):
    """Add every enabled model's queues to a worker that consumes the default queue."""
    from django.conf import settings

    if not getattr(settings, "GENERATION_WORKER_AUTO_QUEUES", True):
        return
    queues = instance.app.amqp.queues
    default = conf.task_default_queue
    if default not in queues.consume_from:
        return
    try:
        from ..selectors.catalogue import enabled_models

        names = [name for model in enabled_models() for name in (model.queue, model.priority_queue)]
    except Exception:
        logger.exception("The generation queues could not be read; this worker takes only its -Q queues")
        return
    for name in names:
        queues.select_add(name)
    logger.info("This worker also takes the generation queues: %s", ", ".join(names))
