"""Reads of the OCS tasks, scoped to who asks: a signed-in user sees only their own tasks, an
anonymous client only the tasks of its guest session, nobody else anything."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from ..models import GenerationJob, OcsTaskStatus, Text2ImageTask, TextProcessingTask

# Task ids are 64-bit integers; a larger number in a URL names no task (and must not reach the database).
MAX_TASK_ID = 2**63 - 1

JOB_STATUS = {
    GenerationJob.Status.QUEUED: OcsTaskStatus.SCHEDULED,
    GenerationJob.Status.RUNNING: OcsTaskStatus.RUNNING,
    GenerationJob.Status.COMPLETED: OcsTaskStatus.SUCCESSFUL,
    GenerationJob.Status.FAILED: OcsTaskStatus.FAILED,
    GenerationJob.Status.CANCELLED: OcsTaskStatus.FAILED,
}


@dataclass(frozen=True)
class Requester:
    """Who an OCS request acts for: a signed-in user, or an anonymous client's guest session."""

    user: object | None = None
    session: object | None = None

    @property
    def is_signed_in(self) -> bool:
        return self.user is not None

    @property
    def is_known(self) -> bool:
        return self.user is not None or self.session is not None

    def holder_q(self) -> Q | None:
        if self.user is not None:
            return Q(owner=self.user)
        if self.session is not None:
            return Q(owner__isnull=True, guest_session=self.session)
        return None


def user_id_of(task) -> str | None:
    """Nextcloud's ``userId``: the owner's user name (their email when they have none); None for
    anonymous tasks."""
    owner = task.owner
    if owner is None:
        return None
    return owner.username or owner.email


def text2image_status(task: Text2ImageTask) -> int:
    """The task's Nextcloud status, from its generation job (the source of truth)."""
    if task.job is None:
        return OcsTaskStatus.UNKNOWN
    return JOB_STATUS.get(task.job.status, OcsTaskStatus.UNKNOWN)


def text2image_tasks(requester: Requester) -> QuerySet[Text2ImageTask]:
    holder = requester.holder_q()
    if holder is None:
        return Text2ImageTask.objects.none()
    return Text2ImageTask.objects.filter(holder).select_related("owner", "job")


def text_tasks(requester: Requester) -> QuerySet[TextProcessingTask]:
    holder = requester.holder_q()
    if holder is None:
        return TextProcessingTask.objects.none()
    return TextProcessingTask.objects.filter(holder).select_related("owner")


def _one(queryset, task_id: int):
    if not isinstance(task_id, int) or not 0 < task_id <= MAX_TASK_ID:
        return None
    return queryset.filter(pk=task_id).first()


def text2image_task(requester: Requester, task_id: int) -> Text2ImageTask | None:
    return _one(text2image_tasks(requester), task_id)


def text_task(requester: Requester, task_id: int) -> TextProcessingTask | None:
    return _one(text_tasks(requester), task_id)


def _by_app(queryset, app_id: str, identifier: str | None):
    if "\x00" in app_id or (identifier is not None and "\x00" in identifier):
        return queryset.none()  # no task has one (and PostgreSQL refuses it in a query)
    queryset = queryset.filter(app_id=app_id)
    if identifier is not None:
        queryset = queryset.filter(identifier=identifier)
    return queryset.order_by("id")


def text2image_tasks_by_app(requester: Requester, *, app_id: str, identifier: str | None) -> QuerySet[Text2ImageTask]:
    """The requester's tasks of ``app_id`` (and ``identifier`` when given), oldest first."""
    return _by_app(text2image_tasks(requester), app_id, identifier)


def text_tasks_by_app(requester: Requester, *, app_id: str, identifier: str | None) -> QuerySet[TextProcessingTask]:
    return _by_app(text_tasks(requester), app_id, identifier)


def task_image(task: Text2ImageTask, index: int):
    """The ``index``-th image (``items.Item``) of a successful task; None while the task is not
    successful, or when there is no such image."""
    from .jobs import job_items

    if text2image_status(task) != OcsTaskStatus.SUCCESSFUL or not 0 <= index < task.number_of_images:
        return None
    items = list(job_items(task.job).select_related("file")[index : index + 1])
    if not items or items[0].is_deleted or items[0].file is None or items[0].file.is_deleted:
        return None
    return items[0]
