"""Reads of generation jobs: a job's items, queue positions and lengths, a user's running work."""

import uuid

from django.db.models import Count, Q, QuerySet, Sum

from apps.items.models import Item

from ..models import GenerationJob

Status = GenerationJob.Status


def job_items(job: GenerationJob) -> QuerySet[Item]:
    """The job's items in output order (deleted ones included: a failed job's placeholders are)."""
    return Item.all_objects.filter(generation_id=str(job.pk)).order_by("created_at", "id")


def job_for_item(item: Item) -> GenerationJob | None:
    """The job that made (or is making) ``item``; None for items made otherwise."""
    return get_job(item.generation_id) if item.generation_id else None


def get_job(job_id) -> GenerationJob | None:
    """The job with this id; None when there is none or the id is not a job id."""
    try:
        job_id = job_id if isinstance(job_id, uuid.UUID) else uuid.UUID(str(job_id))
    except ValueError:
        return None
    return GenerationJob.objects.filter(pk=job_id).first()


def claim_order() -> list[str]:
    """The order in which queued jobs of one model start: premium first, then first come, first served."""
    return ["-priority", "queued_at", "id"]


def ahead_of(job: GenerationJob) -> Q:
    """Queued jobs of the same model that start before ``job``."""
    same_priority = Q(priority=job.priority)
    earlier = same_priority & (Q(queued_at__lt=job.queued_at) | Q(queued_at=job.queued_at, id__lt=job.id))
    if not job.priority:
        earlier |= Q(priority=True)
    return Q(status=Status.QUEUED, model_id=job.model_id) & earlier


def queue_position(job: GenerationJob) -> int | None:
    """1 for the queued job that starts next, 2 for the one after, ...; None once it has started."""
    if job.status != Status.QUEUED:
        return None
    return GenerationJob.objects.filter(ahead_of(job)).count() + 1


def queue_lengths(model_ids: list[str]) -> dict[tuple[str, bool], int]:
    """Queued jobs per (model id, priority), one query."""
    rows = (
        GenerationJob.objects.filter(status=Status.QUEUED, model_id__in=model_ids)
        .values("model_id", "priority")
        .annotate(length=Count("id"))
    )
    return {(row["model_id"], row["priority"]): row["length"] for row in rows}


def active_jobs(*, owner=None, guest_session=None, model_id: str | None = None) -> QuerySet[GenerationJob]:
    """Queued and running jobs of a user (or of a guest session when there is no user)."""
    jobs = GenerationJob.objects.filter(status__in=GenerationJob.ACTIVE)
    if owner is not None:
        jobs = jobs.filter(owner=owner)
    elif guest_session is not None:
        jobs = jobs.filter(owner__isnull=True, guest_session=guest_session)
    else:
        return GenerationJob.objects.none()
    if model_id is not None:
        jobs = jobs.filter(model_id=model_id)
    return jobs


def active_item_count(*, owner=None, guest_session=None, model_id: str) -> int:
    """How many items the user has generating with this model (queued or running)."""
    jobs = active_jobs(owner=owner, guest_session=guest_session, model_id=model_id)
    return jobs.aggregate(total=Sum("batch_size"))["total"] or 0
