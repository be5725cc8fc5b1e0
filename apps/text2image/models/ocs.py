"""Nextcloud OCS tasks: text2image (images made by a GenerationJob) and textprocessing (text made by
a text provider).

Task ids are integers, as Nextcloud's are. A task belongs to a signed-in user (``owner``) or, for an
anonymous caller, to the guest API session the server made for that client (``guest_session``):
exactly one of the two, so an anonymous task can only be found again by the client holding that
session's secret id.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

__all__ = ["OcsTaskStatus", "Text2ImageTask", "TextProcessingTask", "TextTaskType"]


class OcsTaskStatus(models.IntegerChoices):
    """Nextcloud's task status codes (``OCP\\TextToImage\\Task::STATUS_*``)."""

    UNKNOWN = 0, "unknown"
    SCHEDULED = 1, "scheduled"
    RUNNING = 2, "running"
    SUCCESSFUL = 3, "successful"
    FAILED = 4, "failed"


def _one_holder(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(Q(owner__isnull=False) & Q(guest_session__isnull=True))
        | (Q(owner__isnull=True) & Q(guest_session__isnull=False)),
        name=name,
    )


class OcsTask(models.Model):
    """What both kinds of task share (abstract)."""

    id = models.BigAutoField(primary_key=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    guest_session = models.ForeignKey(
        "accounts.ApiSession",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="The anonymous client's guest session (its id is the client's secret).",
    )
    app_id = models.CharField("appId", max_length=255)
    identifier = models.CharField(max_length=255, blank=True, default="")
    input = models.TextField()
    completion_expected_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self._meta.verbose_name} {self.pk}"


class Text2ImageTask(OcsTask):
    """An OCS text2image task. Its images and status are those of its generation job."""

    number_of_images = models.PositiveSmallIntegerField("numberOfImages")
    job = models.OneToOneField(
        "text2image.GenerationJob",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ocs_task",
    )

    class Meta:
        ordering = ["id"]
        verbose_name = "OCS text-to-image task"
        indexes = [
            models.Index(fields=["owner", "app_id", "identifier"], name="t2i_task_owner_app"),
            models.Index(fields=["guest_session", "app_id"], name="t2i_task_guest_app"),
        ]
        constraints = [
            _one_holder("t2i_task_one_holder"),
            models.CheckConstraint(condition=Q(number_of_images__gte=1), name="t2i_task_images_positive"),
        ]


class TextTaskType(models.TextChoices):
    """Nextcloud's textprocessing task types; their ids are the PHP class names."""

    FREE_PROMPT = "OCP\\TextProcessing\\FreePromptTaskType", "Free prompt"
    SUMMARY = "OCP\\TextProcessing\\SummaryTaskType", "Summarize"
    HEADLINE = "OCP\\TextProcessing\\HeadlineTaskType", "Generate headline"
    TOPICS = "OCP\\TextProcessing\\TopicsTaskType", "Extract topics"


class TextProcessingTask(OcsTask):
    """An OCS textprocessing task, run by a text provider inline or on a Celery worker."""

    Type = TextTaskType

    task_type = models.CharField("type", max_length=100, choices=Type.choices)
    status = models.PositiveSmallIntegerField(choices=OcsTaskStatus.choices, default=OcsTaskStatus.SCHEDULED)
    output = models.TextField(null=True, blank=True)
    provider = models.CharField(max_length=20, blank=True, help_text="The text provider that takes the task.")
    error_message = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "OCS text-processing task"
        indexes = [
            models.Index(fields=["owner", "app_id", "identifier"], name="text_task_owner_app"),
            models.Index(fields=["guest_session", "app_id"], name="text_task_guest_app"),
            models.Index(fields=["status", "updated_at"], name="text_task_status"),
        ]
        constraints = [
            _one_holder("text_task_one_holder"),
            models.CheckConstraint(condition=Q(status__gte=0) & Q(status__lte=4), name="text_task_status_known"),
            models.CheckConstraint(
                condition=Q(task_type__in=[choice.value for choice in TextTaskType]), name="text_task_type_known"
            ),
        ]
