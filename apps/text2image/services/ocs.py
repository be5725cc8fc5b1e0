"""Writes of the Nextcloud OCS text2image and textprocessing APIs.

- text2image: ``schedule_image_task`` makes a generation job (``services.jobs.schedule_job``) on the
  model mapped to OCS (``OCS_TEXT2IMAGE_MODEL``) and a task linked to it; the job runs inline when
  the provider's expected runtime fits the caller's budget, otherwise on Celery. The task's status
  and images are the job's.
- textprocessing: ``schedule_text_task`` stores the task and runs it inline (same rule) or sends it
  to Celery (``tasks.ocs.run_textprocessing_task`` → ``run_text_task``), which claims it with a
  conditional UPDATE so that it runs once.
- A broker that cannot take a new task's (or job's) message withdraws it again: QueueUnavailable,
  answered 503; nothing stays scheduled.
- ``delete_*_task``, ``cleanup_ocs_tasks`` (beat, the ``cleanup_ocs_tasks`` command and the admin).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from apps.core import queueing
from apps.core.errors import InvalidInput, PreconditionFailed

from ..models import GenerationJob, OcsTaskStatus, Text2ImageTask, TextProcessingTask, TextTaskType
from ..providers.base import ProviderError
from ..providers.text import provider_for as text_provider_for
from ..providers.text import provider_named as text_provider_named
from ..selectors.ocs import Requester

logger = logging.getLogger("atelier.ocs")

NO_IMAGE_PROVIDER = "No text to image provider is available"
NO_TEXT_PROVIDER = "Necessary language model provider is not available"
UNKNOWN_TASK_TYPE = "Requested task type does not exist"
INTERNAL_ERROR = "The task failed because of an internal error. Try again later."

__all__ = [
    "NO_IMAGE_PROVIDER",
    "NO_TEXT_PROVIDER",
    "UNKNOWN_TASK_TYPE",
    "CleanupResult",
    "cleanup_ocs_tasks",
    "delete_image_task",
    "delete_text_task",
    "image_model",
    "images_available",
    "number_of_images",
    "run_text_task",
    "schedule_image_task",
    "schedule_text_task",
    "seed_demo_tasks",
    "start_guest_session",
]


class RetryLater(Exception):
    """A transient provider failure: the Celery task should run the task again later."""


# --- callers -------------------------------------------------------------------------------------


def start_guest_session(*, domain, ip_address=None, user_agent: str = ""):
    """A new guest API session for an anonymous OCS client (its id becomes the client's secret)."""
    from apps.accounts.services import create_session

    return create_session(domain=domain, user=None, ip_address=ip_address, user_agent=user_agent)


def _holder(requester: Requester) -> dict:
    if requester.user is not None:
        return {"owner": requester.user, "guest_session": None}
    if requester.session is not None:
        return {"owner": None, "guest_session": requester.session}
    raise InvalidInput("An OCS task needs a user or a guest session.")


def _check_input(text: str) -> None:
    limit = settings.OCS_MAX_INPUT_CHARS
    if len(text) > limit:
        detail = f"The input is {len(text):,} characters long; at most {limit:,} are accepted."
        raise InvalidInput(f"input: {detail}", errors={("input",): [detail]})


# --- text2image ----------------------------------------------------------------------------------


def image_model():
    """The catalogue model OCS text2image generates with (None when it does not exist)."""
    from ..selectors.catalogue import default_model_id, get_model

    return get_model(settings.OCS_TEXT2IMAGE_MODEL or default_model_id(video=False))


def images_available() -> bool:
    """Nextcloud's ``isAvailable``: the mapped model exists, is enabled, makes images, and its
    provider can take work."""
    from ..providers.registry import provider_for

    model = image_model()
    if model is None or not model.enabled or model.makes_video:
        return False
    try:
        return bool(provider_for(model).is_available())
    except ProviderError:
        return False


def number_of_images(requested: int, *, model=None, user=None) -> int:
    """``numberOfImages`` capped by OCS_TEXT2IMAGE_MAX_IMAGES, the engine's batch limit and, with
    ``model``, by how many images the caller's tier may generate at once with it (the engine refuses
    a batch larger than that, so a Nextcloud client asking for its default 8 gets what it may have)."""
    cap = min(settings.OCS_TEXT2IMAGE_MAX_IMAGES, getattr(settings, "GENERATION_MAX_BATCH_SIZE", 8))
    if model is not None:
        from apps.billing.selectors import effective_tier

        tier = effective_tier(user) if user is not None else 0
        cap = min(cap, max(1, model.concurrency_for(tier)))
    return max(1, min(int(requested), cap))


def schedule_image_task(
    *,
    requester: Requester,
    text: str,
    app_id: str,
    identifier: str = "",
    images: int = 8,
    inline_budget: float | None = None,
) -> Text2ImageTask:
    """A text2image task for ``text``: its generation job is scheduled (or run, when it fits
    ``inline_budget`` seconds) on the OCS model. PreconditionFailed when no provider is available;
    the job service's refusals (prompt policy, abuse level, tier, concurrency) pass through."""
    from .generation import validate_parameters
    from .jobs import schedule_job

    _check_input(text)
    holder = _holder(requester)
    model = image_model()
    if not images_available():
        raise PreconditionFailed(NO_IMAGE_PROVIDER, code="no_provider")
    count = number_of_images(images, model=model, user=holder["owner"])
    scheduled_at = timezone.now()
    job = schedule_job(
        owner=holder["owner"],
        guest_session=holder["guest_session"],
        model=model,
        kind=GenerationJob.Kind.OCS_IMAGE,
        raw_prompt=text,
        parameters=validate_parameters(model=model, values={}),
        batch_size=count,
        inline_budget=inline_budget,
    )
    task = Text2ImageTask.objects.create(
        **holder,
        app_id=app_id,
        identifier=identifier,
        input=text,
        number_of_images=count,
        job=job,
        completion_expected_at=scheduled_at + timedelta(seconds=job.expected_seconds),
    )
    logger.info("OCS text2image task %s scheduled (job %s, %s images)", task.pk, job.pk, count)
    return Text2ImageTask.objects.select_related("owner", "job").get(pk=task.pk)


def delete_image_task(*, task: Text2ImageTask) -> Text2ImageTask:
    """Delete a text2image task: its job is cancelled if it still runs, its images leave the library
    (soft-deleted, purged after the retention period), and the task row is removed."""
    from apps.items.services import delete_items

    from ..selectors.jobs import job_items
    from .jobs import cancel_job

    job = task.job
    if job is not None:
        if job.is_active:
            cancel_job(job=job)
        item_ids = list(job_items(job).filter(deleted_at__isnull=True).values_list("pk", flat=True))
        if item_ids:
            delete_items(item_ids=item_ids, may_delete=lambda item: item.generation_id == str(job.pk))
    Text2ImageTask.objects.filter(pk=task.pk).delete()
    logger.info("OCS text2image task %s deleted", task.pk)
    return task


# --- textprocessing ------------------------------------------------------------------------------


def schedule_text_task(
    *,
    requester: Requester,
    task_type: str,
    text: str,
    app_id: str,
    identifier: str = "",
    inline_budget: float | None = None,
) -> TextProcessingTask:
    """A textprocessing task: run now when its provider expects to finish within ``inline_budget``
    seconds, otherwise sent to Celery. InvalidInput for an unknown type, PreconditionFailed when no
    available provider serves the type."""
    if task_type not in TextTaskType.values:
        raise InvalidInput(UNKNOWN_TASK_TYPE, code="unknown_task_type")
    _check_input(text)
    holder = _holder(requester)
    provider = text_provider_for(task_type)
    if provider is None:
        raise PreconditionFailed(NO_TEXT_PROVIDER, code="no_provider")
    expected = float(provider.expected_runtime(task_type, text))
    now = timezone.now()
    with transaction.atomic():
        task = TextProcessingTask.objects.create(
            **holder,
            task_type=task_type,
            app_id=app_id,
            identifier=identifier,
            input=text,
            status=OcsTaskStatus.SCHEDULED,
            provider=provider.name,
            completion_expected_at=now + timedelta(seconds=expected),
        )
        inline = inline_budget is not None and inline_budget > 0 and expected <= inline_budget
        if not inline:
            _send_scheduled_text_task(task.pk)
    how = "inline" if inline else "queued"
    logger.info("OCS textprocessing task %s scheduled (%s, %s)", task.pk, provider.name, how)
    if inline:
        run_text_task(task_id=task.pk)
    return TextProcessingTask.objects.select_related("owner").get(pk=task.pk)


def _send_scheduled_text_task(task_id: int) -> None:
    """Send a new task's message once the scheduling transaction commits; when the broker cannot
    take it, the task is withdrawn again and QueueUnavailable (503) reaches the caller."""
    from ..tasks.ocs import run_textprocessing_task

    queueing.send_after_commit(
        run_textprocessing_task, args=(task_id,), undo=lambda: withdraw_unsent_text_task(task_id=task_id)
    )


def withdraw_unsent_text_task(*, task_id: int) -> bool:
    """Remove a task whose message never reached the broker (False when a run took it meanwhile)."""
    deleted, _ = TextProcessingTask.objects.filter(
        pk=task_id, status=OcsTaskStatus.SCHEDULED, started_at__isnull=True
    ).delete()
    if deleted:
        logger.warning("OCS textprocessing task %s withdrawn: its message could not be sent to the queue", task_id)
    return bool(deleted)


def send_text_task(task_id: int) -> None:
    """Send again the message of a task that waited too long (the clean-up); a broker that is down
    leaves the task scheduled for the next clean-up."""
    from ..tasks.ocs import run_textprocessing_task

    try:
        queueing.send(run_textprocessing_task, args=(task_id,))
    except Exception:
        logger.exception("OCS textprocessing task %s could not be sent to the queue", task_id)


def stale_after() -> timedelta:
    """A running task older than this lost its worker (the Celery time limit, plus a margin)."""
    return timedelta(seconds=int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 1800)) + 60)


def _claim_text_task(task_id: int, now) -> bool:
    runnable = Q(status=OcsTaskStatus.SCHEDULED) | Q(status=OcsTaskStatus.RUNNING, started_at__lt=now - stale_after())
    return bool(
        TextProcessingTask.objects.filter(runnable, pk=task_id).update(
            status=OcsTaskStatus.RUNNING, started_at=now, updated_at=now
        )
    )


def _finish_text_task(task_id: int, **changes) -> None:
    now = timezone.now()
    TextProcessingTask.objects.filter(pk=task_id, status=OcsTaskStatus.RUNNING).update(
        finished_at=now, updated_at=now, **changes
    )


def run_text_task(*, task_id: int, final_attempt: bool = True) -> TextProcessingTask | None:
    """Run a scheduled task once (a claim by conditional UPDATE; a finished, deleted or running task
    is left alone) and return it. A transient provider failure before the last attempt gives the
    task back (status scheduled) and raises RetryLater."""
    if not _claim_text_task(task_id, timezone.now()):
        return TextProcessingTask.objects.filter(pk=task_id).first()
    task = TextProcessingTask.objects.get(pk=task_id)
    provider = text_provider_named(task.provider) or text_provider_for(task.task_type)
    try:
        if provider is None or task.task_type not in provider.task_types:
            raise ProviderError(NO_TEXT_PROVIDER)
        output = provider.process(task.task_type, task.input)
    except ProviderError as exc:
        if exc.transient and not final_attempt:
            TextProcessingTask.objects.filter(pk=task_id, status=OcsTaskStatus.RUNNING).update(
                status=OcsTaskStatus.SCHEDULED, started_at=None, updated_at=timezone.now()
            )
            logger.warning("OCS textprocessing task %s will be retried: %s", task_id, exc.message)
            raise RetryLater(exc.message) from exc
        _finish_text_task(task_id, status=OcsTaskStatus.FAILED, error_message=exc.message[:2000])
        logger.warning("OCS textprocessing task %s failed: %s", task_id, exc.message)
    except Exception:
        logger.exception("OCS textprocessing task %s failed", task_id)
        _finish_text_task(task_id, status=OcsTaskStatus.FAILED, error_message=INTERNAL_ERROR)
    else:
        _finish_text_task(task_id, status=OcsTaskStatus.SUCCESSFUL, output=output, provider=provider.name)
        logger.info("OCS textprocessing task %s done (%s)", task_id, provider.name)
    return TextProcessingTask.objects.filter(pk=task_id).first()


def delete_text_task(*, task: TextProcessingTask) -> TextProcessingTask:
    """Delete a textprocessing task (a run in progress finds it gone and stores nothing)."""
    TextProcessingTask.objects.filter(pk=task.pk).delete()
    logger.info("OCS textprocessing task %s deleted", task.pk)
    return task


# --- clean-up ------------------------------------------------------------------------------------


@dataclass
class CleanupResult:
    text2image: int = 0
    textprocessing: int = 0
    resent: int = 0
    failed: int = 0

    def as_dict(self) -> dict:
        return {
            "text2image": self.text2image,
            "textprocessing": self.textprocessing,
            "resent": self.resent,
            "failed": self.failed,
        }


def cleanup_ocs_tasks(*, older_than: timedelta | None = None, now=None) -> CleanupResult:
    """Remove tasks whose last update is older than ``older_than`` (OCS_TASK_RETENTION_DAYS), with
    their images; send again the textprocessing tasks that waited in the queue for longer than the
    stale limit (a lost message; a task runs once whatever happens); fail the ones whose run died."""
    now = now or timezone.now()
    older_than = older_than if older_than is not None else timedelta(days=settings.OCS_TASK_RETENTION_DAYS)
    cutoff = now - older_than
    result = CleanupResult()

    last_update = Greatest(F("updated_at"), Coalesce(F("job__finished_at"), F("job__updated_at"), F("updated_at")))
    old_images = Text2ImageTask.objects.annotate(last_update=last_update).filter(last_update__lt=cutoff)
    for task in old_images.select_related("job").iterator(chunk_size=200):
        delete_image_task(task=task)
        result.text2image += 1
    result.textprocessing, _ = TextProcessingTask.objects.filter(updated_at__lt=cutoff).delete()

    stale = now - stale_after()
    result.failed = TextProcessingTask.objects.filter(status=OcsTaskStatus.RUNNING, started_at__lt=stale).update(
        status=OcsTaskStatus.FAILED,
        error_message="The task was interrupted and was given up. Try again.",
        finished_at=now,
        updated_at=now,
    )
    waiting = TextProcessingTask.objects.filter(status=OcsTaskStatus.SCHEDULED, updated_at__lt=stale)
    for task_id in waiting.values_list("pk", flat=True):
        send_text_task(task_id)
        result.resent += 1
    if any(result.as_dict().values()):
        logger.info("OCS task clean-up: %s", result.as_dict())
    return result


# --- demo data -----------------------------------------------------------------------------------

DEMO_TEXT = (
    "The harbour town opened its new library on the old fish market square this spring. "
    "The building keeps the market's iron roof and adds a reading room with a view of the boats. "
    "Children's books fill the ground floor, and the upper floor holds the town's maritime archive. "
    "The library is open every evening, and the archive welcomes visitors on Saturdays."
)


def seed_demo_tasks():
    """Demo textprocessing tasks of the demo user alice (idempotent: one per built-in type)."""
    from apps.accounts.selectors import find_user
    from apps.core.domains import default_domain

    user = find_user(domain=default_domain(), email="alice@example.com")
    if user is None:
        yield "OCS textprocessing demo tasks: skipped (no demo user alice@example.com)"
        return
    created = 0
    for task_type in (TextTaskType.SUMMARY, TextTaskType.HEADLINE, TextTaskType.TOPICS):
        if TextProcessingTask.objects.filter(owner=user, app_id="demo", task_type=task_type).exists():
            continue
        if text_provider_for(task_type) is None:
            continue
        schedule_text_task(
            requester=Requester(user=user), task_type=task_type, text=DEMO_TEXT, app_id="demo", inline_budget=60
        )
        created += 1
    yield f"OCS textprocessing demo tasks of alice: {created} created"
