"""Generation jobs: the source of truth for a generation's status, queue position, timings and errors."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.models import BaseModel

__all__ = ["GenerationJob"]


class GenerationJob(BaseModel):
    """One generation run: an AIMG generateImage/generateVideo, an API2 workflow, or an OCS task.

    The job is created with its placeholder items (``items.Item`` with ``generation_id`` = this id
    and status ``queued``) in one transaction, then Celery carries it on ``queue``. Execution is
    idempotent: a job whose status is no longer queued/running is never run again, and its items are
    filled at most once.
    """

    class Kind(models.TextChoices):
        IMAGE = "image"
        VIDEO = "video"
        WORKFLOW = "workflow"
        OCS_IMAGE = "ocs_image"
        OCS_TEXT = "ocs_text"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.IMAGE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    owner = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="generation_jobs"
    )
    guest_session = models.ForeignKey(
        "accounts.ApiSession", on_delete=models.SET_NULL, null=True, blank=True, related_name="generation_jobs"
    )
    model_id = models.CharField(max_length=200, blank=True, help_text="AIMG modelID of the model used.")
    provider = models.CharField(max_length=20, blank=True)
    queue = models.CharField(max_length=200, blank=True, help_text="Celery queue the job was sent to.")
    priority = models.BooleanField(default=False, help_text="Sent to the model's premium (-p1-) queue.")
    tier = models.PositiveSmallIntegerField(default=0, help_text="The owner's effective tier when scheduled.")

    raw_prompt = models.TextField(blank=True)
    prompt = models.TextField(blank=True, help_text="The prompt after the prompt policy removed ignored words.")
    raw_negative_prompt = models.TextField(blank=True)
    negative_prompt = models.TextField(blank=True)
    ignored_words = models.JSONField(default=list, blank=True)
    flagged_terms = models.JSONField(default=list, blank=True)
    parameters = models.JSONField(default=dict, blank=True, help_text="Validated generation parameters.")
    batch_id = models.UUIDField(null=True, blank=True)
    batch_size = models.PositiveSmallIntegerField(default=1)
    folder_id = models.UUIDField(null=True, blank=True, help_text="Folder the items go to (None: root).")

    workflow_template = models.ForeignKey(
        "text2image.WorkflowTemplate", on_delete=models.PROTECT, null=True, blank=True, related_name="jobs"
    )
    workflow_parameters = models.JSONField(default=list, blank=True, help_text='[{"name": ..., "value": "..."}]')

    provider_ref = models.CharField(max_length=200, blank=True, help_text="The provider's own id of the run.")
    celery_task_id = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claim_token = models.CharField(
        max_length=64, blank=True, help_text="Id of the run that holds the job (a conditional UPDATE claims it)."
    )
    lease_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="A running job whose lease has expired was lost and may be claimed again."
    )
    worker = models.CharField(max_length=200, blank=True, help_text="Host and process of the run that holds it.")
    expected_seconds = models.FloatField(default=0)
    progress = models.FloatField(default=0)
    log = models.JSONField(default=list, blank=True)
    output_files = models.JSONField(default=list, blank=True, help_text="WorkflowOutputFileEntry objects.")
    info = models.JSONField(default=dict, blank=True)
    error_message = models.TextField(blank=True)

    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["queued_at"]
        indexes = [
            models.Index(fields=["queue", "queued_at"], condition=Q(status="queued"), name="job_queued_by_queue"),
            models.Index(
                fields=["owner", "model_id"], condition=Q(status__in=["queued", "running"]), name="job_active"
            ),
            models.Index(fields=["status", "started_at"], name="job_status_started"),
            models.Index(
                fields=["model_id", "-priority", "queued_at", "id"],
                condition=Q(status="queued"),
                name="job_queued_by_model",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "completed", "failed", "cancelled"]),
                name="job_status_known",
            ),
            models.CheckConstraint(condition=Q(batch_size__gte=1), name="job_batch_size_positive"),
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=1), name="job_progress_fraction"),
        ]

    def __str__(self):
        return f"{self.kind} job {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE
