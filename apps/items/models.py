"""Generated images and videos (AIMG Image / ImageInfo, Neuroflash workspace images) and reactions."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.models import BaseModel, SoftDeleteModel


class Item(BaseModel, SoftDeleteModel):
    """One generated (or uploaded) image or video.

    ``reference_at`` is the pagination key of library lists: the completion time, moved to "now"
    when the item is restored or placed in (or taken out of) a folder. ``folder`` is the folder of
    the folders app that holds the item (always one of its owner's); ``None`` is the root folder.
    Items change folders only through ``apps.folders.services``.
    """

    class MediaKind(models.TextChoices):  # AIMG ``mtype``
        IMAGE = "image"
        VIDEO = "video"

    class ModelMediaType(models.TextChoices):  # AIMG ``mediaType`` (of the generating model)
        STATIC_IMAGE = "StaticImage"
        ANIMATED_IMAGE = "AnimatedImage"
        VIDEO = "Video"
        TEXT = "Text"
        MUSIC = "Music"
        OTHER = "Other"
        UNKNOWN = "Unknown"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"

    class ApprovalStatus(models.TextChoices):
        NONE = "none"
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"

    # --- ownership ---------------------------------------------------------------------------------
    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, null=True, blank=True, related_name="items")
    guest_session = models.ForeignKey(
        "accounts.ApiSession",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="guest_items",
        help_text="The guest session that made the item; it moves to the user when the session signs in.",
    )
    workspace = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="workspace_images",
        help_text="Neuroflash workspace the image belongs to.",
    )

    # --- media -------------------------------------------------------------------------------------
    media_kind = models.CharField("mtype", max_length=5, choices=MediaKind.choices, default=MediaKind.IMAGE)
    model_media_type = models.CharField(
        "media type", max_length=16, choices=ModelMediaType.choices, default=ModelMediaType.STATIC_IMAGE
    )
    file = models.ForeignKey("core.FileObject", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    thumbnail = models.ForeignKey("core.FileObject", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    size_bytes = models.BigIntegerField(null=True, blank=True)

    # --- generation ---------------------------------------------------------------------------------
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COMPLETED)
    batch_id = models.UUIDField(null=True, blank=True, db_index=True)
    generation_id = models.CharField(max_length=128, blank=True, db_index=True)
    prompt = models.TextField(blank=True)
    negative_prompt = models.TextField(blank=True)
    raw_prompt = models.TextField(blank=True, help_text="The prompt as the user wrote it, before filtering.")
    raw_negative_prompt = models.TextField(blank=True)
    generator_version = models.CharField(max_length=2, default="1", help_text="1: legacy generator, 2: workflows.")
    workflow_template_name = models.CharField(max_length=200, blank=True)
    workflow_run_parameters = models.JSONField(default=list, blank=True, help_text='[{"name": ..., "value": "..."}]')
    model = models.CharField(max_length=200, blank=True, help_text="Model identifier (AIMG modelID).")
    model_name = models.CharField(max_length=200, blank=True)
    parameters = models.JSONField(default=dict, blank=True, help_text="Further generation parameters.")
    input_image_ids = models.JSONField(default=list, blank=True)
    seed = models.BigIntegerField(default=0)
    subseed = models.BigIntegerField(default=0)
    subseed_strength = models.FloatField(default=0)
    steps = models.PositiveIntegerField(default=0)
    cfg_scale = models.FloatField(default=0)
    sampler = models.CharField(max_length=100, blank=True)
    restore_faces = models.BooleanField(default=False)
    loras = models.JSONField(default=list, blank=True, help_text='[{"name": ..., "strength": 0.8}]')

    # --- library -------------------------------------------------------------------------------------
    completed_at = models.DateTimeField(null=True, blank=True)
    reference_at = models.DateTimeField(default=timezone.now)
    folder = models.ForeignKey("folders.Folder", on_delete=models.SET_NULL, null=True, blank=True, related_name="items")
    folder_added_at = models.DateTimeField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    is_public = models.BooleanField(default=False)
    public_approval_status = models.CharField(max_length=8, choices=ApprovalStatus.choices, default=ApprovalStatus.NONE)
    is_protected = models.BooleanField(default=False)

    # --- counters (changed with F() expressions only) -------------------------------------------------
    view_count = models.BigIntegerField(default=0)
    like_count = models.BigIntegerField(default=0)
    dislike_count = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-reference_at", "-id"]
        base_manager_name = "all_objects"
        indexes = [
            models.Index(
                fields=["owner", "-reference_at", "-id"],
                condition=Q(deleted_at__isnull=True),
                name="item_owner_library",
            ),
            models.Index(
                fields=["-reference_at", "-id"],
                condition=Q(deleted_at__isnull=True, is_public=True, public_approval_status="approved"),
                name="item_public_feed",
            ),
            models.Index(fields=["-reference_at", "-id"], name="item_reference"),
            models.Index(fields=["owner"], condition=Q(public_approval_status="pending"), name="item_pending_by_owner"),
            models.Index(fields=["workspace", "-created_at"], name="item_workspace_newest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(view_count__gte=0) & Q(like_count__gte=0) & Q(dislike_count__gte=0),
                name="item_counts_not_negative",
            ),
            models.CheckConstraint(condition=Q(media_kind__in=["image", "video"]), name="item_media_kind_known"),
            models.CheckConstraint(
                condition=Q(public_approval_status__in=["none", "pending", "approved", "rejected"]),
                name="item_approval_status_known",
            ),
            models.CheckConstraint(
                condition=~Q(is_public=True) | Q(public_approval_status="approved"),
                name="item_public_only_when_approved",
            ),
        ]

    def __str__(self):
        return f"{self.media_kind} {self.pk}"

    @property
    def is_publicly_visible(self) -> bool:
        """Public, approved, and in a public folder (reads the folder)."""
        return bool(
            self.is_public
            and self.public_approval_status == self.ApprovalStatus.APPROVED
            and self.folder_id is not None
            and self.folder is not None
            and self.folder.is_public
            and not self.folder.is_deleted
        )


class Reaction(BaseModel):
    """A user's like or dislike of an item: at most one per user and item."""

    class Kind(models.TextChoices):
        LIKE = "like"
        DISLIKE = "dislike"

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="item_reactions")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="reactions")
    kind = models.CharField(max_length=7, choices=Kind.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "item"], name="one_reaction_per_user_and_item"),
            models.CheckConstraint(condition=Q(kind__in=["like", "dislike"]), name="reaction_kind_known"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.kind} {self.item_id}"


class ApprovalDecision(BaseModel):
    """One moderator decision on an item's public approval. Append-only: rows are never changed.

    Its Meta also carries the item moderation permissions the roles grant.
    """

    class Decision(models.TextChoices):
        APPROVED = "approved"
        REJECTED = "rejected"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="approval_decisions")
    moderator = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="item_approval_decisions"
    )
    decision = models.CharField(max_length=8, choices=Decision.choices)
    previous_status = models.CharField(max_length=8, choices=Item.ApprovalStatus.choices)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("approve_item", "Can approve or reject items for public display"),
            ("protect_item", "Can protect and unprotect items"),
            ("restore_item", "Can restore deleted items"),
            ("migrate_library", "Can move a library to another user"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(decision__in=["approved", "rejected"]), name="approval_decision_known"),
        ]

    def __str__(self):
        return f"{self.decision} {self.item_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Approval decisions are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Approval decisions are append-only.")


class PendingApprovalItem(Item):
    """Back-office view of the items waiting for public approval."""

    class Meta:
        proxy = True
        verbose_name = "item pending approval"
        verbose_name_plural = "pending approval"


class ApprovedItem(Item):
    """Back-office view of the approved items (to reject an item after approval)."""

    class Meta:
        proxy = True
        verbose_name = "approved item"
        verbose_name_plural = "approved"
