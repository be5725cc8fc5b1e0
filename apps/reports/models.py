"""Reports of items (AIMG ItemReport), the queues they are filed in, and the moderation audit trail.

A report snapshots what the moderator must judge at the moment it is filed (``item_metadata``:
prompts, workflow, model, url; ``author_metadata``: the author's id, email, username, flags, abuse
level), so a later change or a purge of the item does not change what was reported. ``item_ref``
keeps the item's id after the item itself is purged (``item`` then becomes null).
"""

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from apps.core.models import BaseModel


class ReportQueue(BaseModel):
    """A report category. User queues are data that staff edit; system queues are the system's own.

    Exactly one user queue is the default (``Not Specified``): reports that name no queue go there.
    There is at most one queue of each system kind; the system fills them (prompt-policy flags of
    the generation engine, repeat offenders), users never report into them.
    """

    class Kind(models.TextChoices):
        USER = "user", "user queue"
        PROMPT_POLICY = "prompt_policy", "system: prompt-policy flags"
        REPEAT_OFFENDER = "repeat_offender", "system: repeat offenders"

    name = models.CharField(max_length=100, help_text="The value of reportQueue / reportQueues in the API.")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.USER)
    description = models.TextField(blank=True, help_text="What belongs in this queue (for moderators).")
    is_active = models.BooleanField(
        default=True, help_text="Offered to users (getReportQueues, reportItems). Existing reports stay."
    )
    is_default = models.BooleanField(
        default=False, editable=False, help_text="Where reports naming no queue go (Not Specified)."
    )
    position = models.PositiveSmallIntegerField(default=100, help_text="Order in lists (smallest first).")

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="unique_report_queue_name",
                violation_error_message="A queue with this name already exists.",
            ),
            models.UniqueConstraint(fields=["kind"], condition=~Q(kind="user"), name="one_queue_per_system_kind"),
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_queue"),
            models.CheckConstraint(
                condition=Q(kind__in=["user", "prompt_policy", "repeat_offender"]), name="report_queue_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(is_default=False) | Q(kind="user", is_active=True), name="default_queue_is_active_user"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_system(self) -> bool:
        return self.kind != self.Kind.USER


class Report(BaseModel):
    """One report of one item, pending until a moderator (or the system) closes it."""

    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        DECLINED = "declined"
        AUTOMATICALLY_DECLINED = "automaticallyDeclined", "automatically declined"

    class Source(models.TextChoices):
        USER = "user", "a user"
        PROMPT_POLICY = "prompt_policy", "the prompt policy"
        REPEAT_OFFENDER = "repeat_offender", "the repeat-offender rule"

    domain = models.ForeignKey("core.Domain", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(
        "items.Item",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        help_text="Empty once the item is purged for good.",
    )
    item_ref = models.UUIDField("item ID", db_index=True, help_text="The reported item's id (kept after a purge).")
    queue = models.ForeignKey(ReportQueue, on_delete=models.PROTECT, related_name="reports")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.USER)
    reporter = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="filed_reports"
    )
    author = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports_on_items",
        help_text="Who made the item (its owner when it was reported).",
    )
    status = models.CharField(max_length=21, choices=Status.choices, default=Status.PENDING)
    additional_information = models.TextField(
        blank=True, help_text="The reporter's words (reportAdditionalInformation)."
    )
    item_metadata = models.JSONField(default=dict, blank=True)
    author_metadata = models.JSONField(default=dict, blank=True)
    system_details = models.JSONField(
        default=dict, blank=True, help_text="What made the system file it (matched terms, offence count)."
    )

    # --- the decision ----------------------------------------------------------------------------------
    processed_at = models.DateTimeField(null=True, blank=True)
    approver = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="processed_reports"
    )
    approval_additional_information = models.TextField(blank=True, help_text="The moderator's note.")

    # --- Epoch downloads (changed with F() only) -------------------------------------------------------
    download_count = models.PositiveIntegerField(default=0)
    download_last_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("close_report", "Can accept or decline reports"),
            ("export_report", "Can download reports as CSV (Epoch)"),
        ]
        indexes = [
            models.Index(fields=["domain", "-created_at", "-id"], name="report_domain_newest"),
            models.Index(fields=["status", "queue", "created_at"], name="report_status_queue"),
            models.Index(fields=["author", "status"], name="report_author_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "accepted", "declined", "automaticallyDeclined"]),
                name="report_status_known",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["user", "prompt_policy", "repeat_offender"]), name="report_source_known"
            ),
            models.CheckConstraint(
                condition=(Q(status="pending") & Q(processed_at__isnull=True))
                | (~Q(status="pending") & Q(processed_at__isnull=False)),
                name="report_processed_when_closed",
            ),
            # A user reports an item again only once their earlier report of it is closed.
            models.UniqueConstraint(
                fields=["item_ref", "reporter"],
                condition=Q(status="pending", source="user"),
                name="one_open_report_per_reporter_and_item",
            ),
            # The prompt policy flags an item once.
            models.UniqueConstraint(
                fields=["item_ref"], condition=Q(source="prompt_policy"), name="one_prompt_policy_report_per_item"
            ),
            # At most one open repeat-offender report per author.
            models.UniqueConstraint(
                fields=["author"],
                condition=Q(source="repeat_offender", status="pending"),
                name="one_open_repeat_offender_report_per_author",
            ),
        ]

    def __str__(self):
        return f"report {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.PENDING


# --- back-office views of the reports (proxies: one admin page each) ------------------------------------


class PendingReport(Report):
    class Meta:
        proxy = True
        verbose_name = "pending report"
        verbose_name_plural = "pending reports"


class ClosedReport(Report):
    class Meta:
        proxy = True
        verbose_name = "closed report"
        verbose_name_plural = "closed reports"


# --- the audit trail ---------------------------------------------------------------------------------------


class AppendOnly(Exception):
    pass


class ModerationEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("Moderation events are append-only.")

    def delete(self):
        raise AppendOnly("Moderation events are append-only.")


class ModerationEvent(models.Model):
    """One moderation decision: who, what, when, and the note. Rows are only ever added.

    People are kept by id and email (no foreign key), so that nothing deleted later changes an event.
    """

    class Kind(models.TextChoices):
        REPORT_ACCEPTED = "report_accepted", "report accepted"
        REPORT_DECLINED = "report_declined", "report declined"
        REPORT_AUTO_DECLINED = "report_auto_declined", "report automatically declined"
        REPORTS_EXPORTED = "reports_exported", "reports exported (CSV)"
        ABUSE_LEVEL_SET = "abuse_level_set", "abuse level set"

    class Source(models.TextChoices):
        API = "api", "API"
        BACK_OFFICE = "back_office", "back office"
        COMMAND = "command", "management command"
        SYSTEM = "system", "the system"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    source = models.CharField(max_length=12, choices=Source.choices)
    actor_id = models.UUIDField("moderator ID", null=True, blank=True, help_text="Who decided; empty: the system.")
    actor_email = models.CharField("moderator email", max_length=254, blank=True)
    report_id = models.UUIDField("report ID", null=True, blank=True, db_index=True)
    item_ref = models.UUIDField("item ID", null=True, blank=True)
    subject_id = models.UUIDField("author ID", null=True, blank=True, help_text="The user the decision concerns.")
    subject_email = models.CharField("author email", max_length=254, blank=True)
    note = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = ModerationEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "moderation event"
        indexes = [models.Index(fields=["subject_id", "created_at"]), models.Index(fields=["actor_id", "created_at"])]

    def __str__(self):
        return f"{timezone.localtime(self.created_at):%Y-%m-%d %H:%M:%S} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("Moderation events are append-only.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("Moderation events are append-only.")
