"""Generation jobs: scheduling, execution, cancellation and reaping (the job contract).

- ``schedule_job`` checks the caller (abuse level, tier, registration wall, per-tier concurrency),
  applies the prompt policy, creates the job and its placeholder items in one transaction, and on
  commit sends it to Celery on the model's queue (the ``-p1-`` priority queue for premium tiers), or
  runs it inline when the caller gave an ``inline_budget`` the provider fits in. A broker that
  cannot take the message withdraws the job and its items again: QueueUnavailable (503).
- ``run_job`` executes one job, idempotently: a job is claimed by a conditional UPDATE (queued, or
  running with an expired lease), so two workers never run it at once, a finished job never runs
  again, and its items are filled in the same transaction that completes it (at most once).
- ``run_next_job`` is what a Celery message does: it runs the job that should start next on the
  message's model (premium first, then first come, first served), which makes ``queuePosition``
  exact and the priority queue a real priority, whatever order the broker delivers in.
- ``cancel_job``, ``retry_job`` and ``reap_jobs`` (the beat task: lost runs are queued again,
  runs past their time limit and jobs no worker took end failed with a message).

A running job holds a lease (GENERATION_JOB_LEASE_SECONDS) that a heartbeat renews while the
provider works. A worker that dies lets the lease expire; its unacknowledged message comes back
(``acks_late``) and runs the job again, or the reaper queues it again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core import queueing
from apps.core.errors import (
    AtelierError,
    InvalidInput,
    NotAuthenticated,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
)
from apps.items.models import Item

from ..models import GenerationJob, GenerationModel
from ..providers.base import ProviderError
from ..providers.registry import provider_for
from ..selectors import jobs as job_selectors
from . import generation, outputs
from .policy import apply_policy

logger = logging.getLogger("atelier.generation")

Status = GenerationJob.Status
Kind = GenerationJob.Kind
CANDIDATES = 20
MAX_LOG_LINES = 200
INTERNAL_ERROR = "The generation failed because of an internal error. Try again later."


# --- settings ----------------------------------------------------------------------------------------


def lease_seconds() -> float:
    return float(getattr(settings, "GENERATION_JOB_LEASE_SECONDS", 60))


def max_attempts() -> int:
    return int(getattr(settings, "GENERATION_JOB_MAX_ATTEMPTS", 3))


def queued_timeout() -> float:
    return float(getattr(settings, "GENERATION_QUEUED_TIMEOUT", 6 * 3600))


def priority_min_tier() -> int:
    return int(getattr(settings, "GENERATION_PRIORITY_MIN_TIER", 1))


def retry_backoff(attempt: int) -> float:
    return min(300.0, 5.0 * 2 ** max(0, attempt - 1))


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


# --- scheduling --------------------------------------------------------------------------------------


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def _effective_tier(user) -> int:
    from apps.billing.selectors import effective_tier

    return effective_tier(user) if _signed_in(user) else 0


def _check_access(*, owner, model: GenerationModel, tier: int) -> None:
    from apps.accounts.services import assert_may_generate

    assert_may_generate(owner)
    if not model.enabled:
        message = f"The model {model.model_id} is not available."
        raise InvalidInput(message, errors={("modelName",): [message]})
    if model.registration_wall and not _signed_in(owner):
        raise NotAuthenticated(f"Sign up or sign in to use the model {model.name}.", code="registration_wall")
    if tier < model.min_tier:
        raise PermissionDenied(
            f"The model {model.name} needs PRO tier {model.min_tier} or higher; your tier is {tier}.",
            code="tier_too_low",
        )


def _lock_caller(owner, guest_session) -> None:
    """Serialize the scheduling of one user (or guest session), so that the concurrency limit holds."""
    from apps.accounts.models import ApiSession, User

    if owner is not None:
        list(User.all_objects.select_for_update().filter(pk=owner.pk).values_list("pk"))
    elif guest_session is not None:
        list(ApiSession.objects.select_for_update().filter(pk=guest_session.pk).values_list("pk"))


def _check_concurrency(*, owner, guest_session, model: GenerationModel, tier: int, batch_size: int) -> None:
    if owner is None and guest_session is None:
        return
    limit = model.concurrency_for(tier)
    if limit <= 0:
        raise PermissionDenied(
            f"Your tier ({tier}) cannot generate with the model {model.name}.", code="tier_not_allowed"
        )
    active = job_selectors.active_item_count(owner=owner, guest_session=guest_session, model_id=model.model_id)
    if active + batch_size > limit:
        running = "generation" if active == 1 else "generations"
        raise RateLimited(
            f"You already have {active} {running} in progress with the model {model.name}, and your tier allows "
            f"{limit} at a time. Wait for one to finish, then try again.",
            code="too_many_concurrent",
        )


def _media_kind(kind: str) -> str:
    return Item.MediaKind.VIDEO if kind == Kind.VIDEO else Item.MediaKind.IMAGE


def _model_media_type(model: GenerationModel) -> str:
    value = model.media_type
    return value if value in Item.ModelMediaType.values else Item.ModelMediaType.UNKNOWN


def schedule_job(
    *,
    owner,
    guest_session=None,
    model: GenerationModel,
    kind: str,
    raw_prompt: str,
    raw_negative_prompt: str = "",
    parameters: dict,
    batch_size: int = 1,
    folder=None,
    workflow_template=None,
    workflow_parameters=None,
    workflow_values=None,
    inline_budget: float | None = None,
) -> GenerationJob:
    """Accept a generation and queue it (see the module's docstring). ``parameters`` are already
    validated (``generation.validate_parameters``); ``folder`` is a folder (or its id) the caller may
    place items in; ``workflow_values`` maps ``replaceFromString`` markers to run values."""
    owner = owner if _signed_in(owner) else None
    if kind not in Kind.values:
        raise InvalidInput(f"Unknown generation kind {kind!r}.")
    if not 1 <= int(batch_size) <= int(getattr(settings, "GENERATION_MAX_BATCH_SIZE", 8)):
        message = f"The batch size must be from 1 to {getattr(settings, 'GENERATION_MAX_BATCH_SIZE', 8)}."
        raise InvalidInput(message, errors={("batchSize",): [message]})
    tier = _effective_tier(owner)
    _check_access(owner=owner, model=model, tier=tier)
    outcome = apply_policy(prompt=raw_prompt or "", negative_prompt=raw_negative_prompt or "")
    parameters = dict(parameters)
    priority = tier >= priority_min_tier()
    try:
        provider = provider_for(model)
    except ProviderError as exc:
        raise ServiceUnavailable(f"The model {model.name} cannot run on this server: {exc.message}") from exc
    folder_id = getattr(folder, "pk", folder)
    info = {"workflow_values": dict(workflow_values)} if workflow_values else {}
    if folder is not None and folder_id is not None:
        # How to name the folder again when the items are placed (public folder ids carry "p-").
        info["folder_ref"] = f"p-{folder_id}" if getattr(folder, "is_public", False) else str(folder_id)

    with transaction.atomic():
        _lock_caller(owner, guest_session)
        _check_concurrency(owner=owner, guest_session=guest_session, model=model, tier=tier, batch_size=batch_size)
        now = timezone.now()
        job = GenerationJob(
            kind=kind,
            owner=owner,
            guest_session=guest_session,
            model_id=model.model_id,
            provider=model.provider,
            queue=model.priority_queue if priority else model.queue,
            priority=priority,
            tier=tier,
            raw_prompt=raw_prompt or "",
            prompt=outcome.prompt,
            raw_negative_prompt=raw_negative_prompt or "",
            negative_prompt=outcome.negative_prompt,
            ignored_words=outcome.ignored_words,
            flagged_terms=outcome.flagged_terms,
            parameters=parameters,
            batch_id=uuid.uuid4(),
            batch_size=batch_size,
            folder_id=folder_id,
            workflow_template=workflow_template,
            workflow_parameters=list(workflow_parameters or []),
            info=info,
            celery_task_id=str(uuid.uuid4()),
            queued_at=now,
        )
        job.expected_seconds = float(provider.expected_runtime(generation.build_request(job, model)))
        job.save(force_insert=True)
        _create_placeholders(job, model, now)

        inline = (
            inline_budget is not None
            and inline_budget > 0
            and job.expected_seconds <= inline_budget
            and job_selectors.queue_position(job) == 1
        )
        if not inline:
            _send_scheduled(job)
    logger.info(
        "Generation job %s scheduled: %s on %s (queue %s, tier %s)", job.pk, kind, model.model_id, job.queue, tier
    )
    if inline:
        job = run_job(job_id=job.pk)
    return job


def _create_placeholders(job: GenerationJob, model: GenerationModel, now) -> list[Item]:
    parameters = job.parameters
    items = []
    for index in range(job.batch_size):
        items.append(
            Item(
                owner=job.owner,
                guest_session=job.guest_session if job.owner is None else None,
                media_kind=_media_kind(job.kind),
                model_media_type=_model_media_type(model),
                status=Item.Status.QUEUED,
                batch_id=job.batch_id,
                generation_id=str(job.pk),
                prompt=job.prompt,
                negative_prompt=job.negative_prompt,
                raw_prompt=job.raw_prompt,
                raw_negative_prompt=job.raw_negative_prompt,
                generator_version="2" if job.workflow_template_id else "1",
                workflow_template_name=getattr(job.workflow_template, "name", "") if job.workflow_template_id else "",
                workflow_run_parameters=job.workflow_parameters,
                model=model.model_id,
                model_name=model.name,
                parameters={
                    key: value
                    for key, value in parameters.items()
                    if key not in ("steps", "width", "height", "sampler", "cfg_scale", "seed", "subseed")
                    and key not in ("subseed_strength", "restore_faces", "loras")
                },
                seed=int(parameters.get("seed", 0)) + index,
                subseed=int(parameters.get("subseed", 0)) + index,
                subseed_strength=float(parameters.get("subseed_strength", 0)),
                steps=int(parameters.get("steps", 0)),
                cfg_scale=float(parameters.get("cfg_scale", 0)),
                sampler=str(parameters.get("sampler", "")),
                restore_faces=bool(parameters.get("restore_faces", False)),
                loras=list(parameters.get("loras", [])),
                width=int(parameters.get("width", 0)),
                height=int(parameters.get("height", 0)),
                completed_at=None,
                # Output order is creation order: one microsecond apart, never tied.
                created_at=now + timedelta(microseconds=index),
                reference_at=now,
            )
        )
    return Item.objects.bulk_create(items)


def _message(job: GenerationJob, countdown: float | None = None) -> tuple:
    """The task, keyword arguments and options of the job's Celery message."""
    from ..tasks.generation import run_generation_job

    options = {"queue": job.queue, "task_id": job.celery_task_id or None}
    if countdown:
        options["countdown"] = countdown
    return run_generation_job, {"job_id": str(job.pk)}, options


def _send_scheduled(job: GenerationJob) -> None:
    """Send a new job's message once the scheduling transaction commits. When the broker cannot
    take it, the job is withdrawn (``withdraw_unsent_job``) and QueueUnavailable (503) reaches the
    caller: nothing was scheduled, no concurrency slot stays taken."""
    task, kwargs, options = _message(job)
    queueing.send_after_commit(task, kwargs=kwargs, undo=lambda: withdraw_unsent_job(job_id=job.pk), **options)


def withdraw_unsent_job(*, job_id) -> bool:
    """Remove a job whose first message never reached the broker, with its placeholder items (no
    run touched them, nobody saw a result). False, and nothing changes, when a run took the job
    meanwhile (a worker running the next job of the model picks queued jobs itself): it goes on."""
    with transaction.atomic():
        unsent = GenerationJob.objects.select_for_update().filter(pk=job_id, status=Status.QUEUED, attempts=0)
        if not list(unsent.values_list("pk", flat=True)):
            return False
        Item.all_objects.filter(generation_id=str(job_id)).hard_delete()
        GenerationJob.objects.filter(pk=job_id).delete()
    logger.warning("Generation job %s withdrawn: its message could not be sent to the queue", job_id)
    return True


def send_to_queue(job: GenerationJob, *, countdown: float | None = None) -> None:
    """Send the message of a job that is queued already (a retry, the reaper, the back office)."""
    task, kwargs, options = _message(job, countdown)
    try:
        queueing.send(task, kwargs=kwargs, **options)
    except Exception:
        # The job stays queued: the next message of its model runs it (a run takes the queued jobs
        # of its model in order), or the reaper fails it after GENERATION_QUEUED_TIMEOUT.
        logger.exception("Generation job %s could not be sent to queue %s", job.pk, job.queue)


# --- execution ---------------------------------------------------------------------------------------


def _claimable(now) -> Q:
    return Q(status=Status.QUEUED) | Q(status=Status.RUNNING, lease_expires_at__lt=now)


def _claim(job_id, token: str) -> bool:
    """Take the job for the run ``token``: one conditional UPDATE, so only one run ever wins."""
    now = timezone.now()
    return (
        GenerationJob.objects.filter(pk=job_id)
        .filter(_claimable(now))
        .update(
            status=Status.RUNNING,
            claim_token=token,
            lease_expires_at=now + timedelta(seconds=lease_seconds()),
            started_at=now,
            attempts=F("attempts") + 1,
            worker=_worker_name(),
            progress=0,
            updated_at=now,
        )
        == 1
    )


def _held(job_id, token: str):
    return GenerationJob.objects.filter(pk=job_id, claim_token=token, status=Status.RUNNING)


def run_job(*, job_id) -> GenerationJob:
    """Run the job if it is runnable (queued, or running with an expired lease) and return it.

    Never runs a finished job again; a job another run holds is returned as it is.
    """
    token = uuid.uuid4().hex
    if not _claim(job_id, token):
        job = job_selectors.get_job(job_id)
        if job is None:
            raise InvalidInput(f"There is no generation job {job_id}.")
        return job
    return _execute(job_id, token)


@dataclass
class NextRun:
    """What one Celery message did: the job it ran (if any), or when to look again."""

    job: GenerationJob | None = None
    retry_in: float | None = None


def run_next_job(*, job_id) -> NextRun:
    """Run the job that should start next on the model of job ``job_id``.

    Queued jobs of the model run premium first, then in the order they were scheduled. The
    message's own job is also taken when it is running with an expired lease (its run was lost).
    When nothing is runnable but the own job is still held by a live run, ``retry_in`` says when
    that lease expires (the message must come back then, in case that run dies).
    """
    own = job_selectors.get_job(job_id)
    if own is None:
        return NextRun()
    now = timezone.now()
    if own.status == Status.RUNNING and own.lease_expires_at is not None and own.lease_expires_at < now:
        token = uuid.uuid4().hex
        if _claim(own.pk, token):
            return NextRun(job=_execute(own.pk, token))
    candidates = (
        GenerationJob.objects.filter(model_id=own.model_id, status=Status.QUEUED)
        .order_by(*job_selectors.claim_order())
        .values_list("pk", flat=True)[:CANDIDATES]
    )
    for candidate in candidates:
        token = uuid.uuid4().hex
        if _claim(candidate, token):
            return NextRun(job=_execute(candidate, token))
    own.refresh_from_db()
    if own.status == Status.RUNNING and own.lease_expires_at is not None:
        return NextRun(retry_in=max(1.0, (own.lease_expires_at - timezone.now()).total_seconds() + 1.0))
    if own.status == Status.QUEUED:  # taken back by the reaper meanwhile: look again soon
        return NextRun(retry_in=1.0)
    return NextRun()


class _Heartbeat:
    """Renews the run's lease while the provider works (in a thread with its own connection).

    Inside a transaction (tests, an inline run in a caller's transaction) other connections cannot
    see the claim, so no thread is started; progress reports renew the lease instead.
    """

    def __init__(self, job_id, token: str):
        self.job_id, self.token = job_id, token
        self.stop = threading.Event()
        self.thread = None

    def __enter__(self):
        if not connection.in_atomic_block:
            self.thread = threading.Thread(target=self._run, name=f"lease-{self.job_id}", daemon=True)
            self.thread.start()
        return self

    def _run(self):
        interval = max(0.2, lease_seconds() / 3)
        try:
            while not self.stop.wait(interval):
                renew_lease(self.job_id, self.token)
        except Exception:
            logger.exception("The lease of generation job %s could not be renewed", self.job_id)
        finally:
            connection.close()

    def __exit__(self, *exc):
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=10)
        return False


def renew_lease(job_id, token: str) -> bool:
    now = timezone.now()
    return bool(_held(job_id, token).update(lease_expires_at=now + timedelta(seconds=lease_seconds())))


class _Progress:
    """The provider's progress reports: stored at most twice a second, each renewing the lease."""

    def __init__(self, job: GenerationJob, token: str):
        self.job_id, self.token = job.pk, token
        self.log = list(job.log or [])
        self.last = 0.0

    def __call__(self, fraction: float, line: str = "") -> None:
        if line:
            self.log = [*self.log, str(line)[:500]][-MAX_LOG_LINES:]
        now = time.monotonic()
        if now - self.last < 0.5 and fraction < 1:
            return
        self.last = now
        fraction = min(max(float(fraction or 0), 0.0), 1.0)
        stamp = timezone.now()
        _held(self.job_id, self.token).update(
            progress=fraction,
            log=self.log,
            lease_expires_at=stamp + timedelta(seconds=lease_seconds()),
            updated_at=stamp,
        )


def _execute(job_id, token: str) -> GenerationJob:
    job = GenerationJob.objects.select_related("workflow_template").get(pk=job_id)
    model = GenerationModel.objects.filter(model_id=job.model_id).first()
    logger.info("Generation job %s started (attempt %s, %s)", job.pk, job.attempts, job.worker)
    progress = _Progress(job, token)
    try:
        if model is None:
            raise ProviderError(f"The model {job.model_id} no longer exists.")
        provider = provider_for(model)
        request = generation.build_request(job, model)
        with _Heartbeat(job.pk, token):
            result = provider.generate(request, progress=progress)
        prepared = outputs.prepare(job, result)
        return outputs.complete(job, token, result, prepared, log=progress.log)
    except ProviderError as exc:
        return _failed_or_retried(job, token, exc, progress.log)
    except AtelierError as exc:
        return _fail(job.pk, token, exc.message, log=progress.log)
    except Exception as exc:
        if type(exc).__name__ in ("SoftTimeLimitExceeded", "TimeLimitExceeded"):
            return _fail(job.pk, token, "The generation took too long and was stopped.", log=progress.log)
        logger.exception("Generation job %s failed", job.pk)
        return _fail(job.pk, token, INTERNAL_ERROR, log=progress.log)


def _failed_or_retried(job: GenerationJob, token: str, exc: ProviderError, log: list) -> GenerationJob:
    if exc.transient and job.attempts < max_attempts():
        return _requeue(job.pk, token, exc.message, log=log, countdown=retry_backoff(job.attempts))
    return _fail(job.pk, token, exc.message, log=log)


def _requeue(job_id, token: str, message: str, *, log: list, countdown: float) -> GenerationJob:
    """Give a held job back to its queue (a transient failure) and send its message again later."""
    with transaction.atomic():
        updated = _held(job_id, token).update(
            status=Status.QUEUED,
            claim_token="",
            lease_expires_at=None,
            worker="",
            log=[*log, f"Attempt failed, retrying in {countdown:g} s: {message}"][-MAX_LOG_LINES:],
            updated_at=timezone.now(),
        )
        job = GenerationJob.objects.get(pk=job_id)
        if updated:
            logger.warning("Generation job %s will be retried in %ss: %s", job_id, countdown, message)
            transaction.on_commit(lambda: send_to_queue(job, countdown=countdown))
    return job


def _fail(job_id, token: str | None, message: str, *, log: list | None = None) -> GenerationJob:
    """End a job as failed with ``message``; its unfinished items are marked failed and removed from
    the library (``token`` None: whoever holds it, e.g. the reaper)."""
    now = timezone.now()
    with transaction.atomic():
        jobs = (
            _held(job_id, token) if token else GenerationJob.objects.filter(pk=job_id, status__in=GenerationJob.ACTIVE)
        )
        changes = {
            "status": Status.FAILED,
            "error_message": (message or INTERNAL_ERROR)[:2000],
            "finished_at": now,
            "claim_token": "",
            "lease_expires_at": None,
            "updated_at": now,
        }
        if log is not None:
            changes["log"] = [*log, f"Failed: {message}"][-MAX_LOG_LINES:]
        if jobs.update(**changes):
            _end_items(job_id, now)
            logger.warning("Generation job %s failed: %s", job_id, message)
    return GenerationJob.objects.get(pk=job_id)


def _end_items(job_id, now) -> None:
    Item.all_objects.filter(generation_id=str(job_id)).exclude(status=Item.Status.COMPLETED).update(
        status=Item.Status.FAILED, deleted_at=now, updated_at=now
    )


# --- cancel, retry, reap -----------------------------------------------------------------------------


def cancel_job(*, job: GenerationJob) -> GenerationJob:
    """Stop a queued or running job (a run in progress discards its result); finished jobs stay as they are."""
    now = timezone.now()
    with transaction.atomic():
        locked = GenerationJob.objects.select_for_update().filter(pk=job.pk).first()
        if locked is None or locked.status not in GenerationJob.ACTIVE:
            return locked or job
        was_running, provider_ref = locked.status == Status.RUNNING, locked.provider_ref
        GenerationJob.objects.filter(pk=job.pk).update(
            status=Status.CANCELLED,
            error_message="The generation was cancelled.",
            finished_at=now,
            claim_token="",
            lease_expires_at=None,
            updated_at=now,
        )
        _end_items(job.pk, now)
    if was_running and provider_ref:
        try:
            provider_for(locked.provider).cancel(provider_ref)
        except Exception:
            logger.exception("The provider could not cancel run %s of job %s", provider_ref, job.pk)
    logger.info("Generation job %s cancelled", job.pk)
    return GenerationJob.objects.get(pk=job.pk)


def retry_job(*, job: GenerationJob) -> GenerationJob:
    """Queue a failed or cancelled job again (back office): its placeholders come back, and it keeps
    its place by its original queue time."""
    now = timezone.now()
    with transaction.atomic():
        updated = GenerationJob.objects.filter(pk=job.pk, status__in=[Status.FAILED, Status.CANCELLED]).update(
            status=Status.QUEUED,
            error_message="",
            finished_at=None,
            started_at=None,
            progress=0,
            attempts=0,
            claim_token="",
            lease_expires_at=None,
            updated_at=now,
        )
        if not updated:
            raise InvalidInput("Only failed or cancelled jobs can be retried.")
        Item.all_objects.filter(generation_id=str(job.pk), status=Item.Status.FAILED).update(
            status=Item.Status.QUEUED, deleted_at=None, updated_at=now
        )
        fresh = GenerationJob.objects.get(pk=job.pk)
        transaction.on_commit(lambda: send_to_queue(fresh))
    logger.info("Generation job %s queued again", job.pk)
    return fresh


@dataclass
class ReapResult:
    requeued: list = field(default_factory=list)
    timed_out: list = field(default_factory=list)
    abandoned: list = field(default_factory=list)
    not_taken: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {name: len(getattr(self, name)) for name in ("requeued", "timed_out", "abandoned", "not_taken")}


def reap_jobs(*, now=None) -> ReapResult:
    """Settle stuck jobs:

    - a running job whose lease expired (its worker died) is queued again, or failed once it has
      had GENERATION_JOB_MAX_ATTEMPTS attempts;
    - a running job past its model's time limit (GENERATION_JOB_TIMEOUT by default) fails;
    - a queued job that no worker took within GENERATION_QUEUED_TIMEOUT fails.
    Each change is a conditional UPDATE, so a worker finishing at the same moment wins or loses cleanly.
    """
    now = now or timezone.now()
    result = ReapResult()
    models = {model.model_id: model for model in GenerationModel.objects.all()}

    for job in GenerationJob.objects.filter(status=Status.RUNNING, lease_expires_at__lt=now):
        if job.attempts >= max_attempts():
            message = f"The generation was interrupted {job.attempts} times and was given up. Try again later."
            if _fail_if_unchanged(job, message, now):
                result.abandoned.append(job.pk)
            continue
        updated = GenerationJob.objects.filter(
            pk=job.pk, status=Status.RUNNING, claim_token=job.claim_token, lease_expires_at__lt=now
        ).update(status=Status.QUEUED, claim_token="", lease_expires_at=None, worker="", updated_at=now)
        if updated:
            result.requeued.append(job.pk)
            send_to_queue(job)

    for job in GenerationJob.objects.filter(status=Status.RUNNING, started_at__isnull=False):
        limit = generation.job_timeout(models.get(job.model_id))
        if job.started_at < now - timedelta(seconds=limit):
            message = f"The generation took longer than {limit:g} seconds and was stopped."
            if _fail_if_unchanged(job, message, now):
                result.timed_out.append(job.pk)

    waited = now - timedelta(seconds=queued_timeout())
    for job in GenerationJob.objects.filter(status=Status.QUEUED, queued_at__lt=waited):
        message = "No worker took this generation in time. Try again later."
        if _fail_if_unchanged(job, message, now):
            result.not_taken.append(job.pk)
    if any(result.as_dict().values()):
        logger.warning("Reaped generation jobs: %s", result.as_dict())
    return result


def _fail_if_unchanged(job: GenerationJob, message: str, now) -> bool:
    with transaction.atomic():
        updated = GenerationJob.objects.filter(pk=job.pk, status=job.status, claim_token=job.claim_token).update(
            status=Status.FAILED,
            error_message=message,
            finished_at=now,
            claim_token="",
            lease_expires_at=None,
            updated_at=now,
        )
        if updated:
            _end_items(job.pk, now)
    return bool(updated)
