"""Folders of a user's library (AIMG Folder) and the thumbnails a user picks for a folder.

An item sits in at most one folder (``items.Item.folder``; none is the root folder). A folder is
private or public; public folder ids are written ``p-<uuid>`` on the wire. ``imageCount`` and the
automatic ``sampleImages`` are computed from the items when a folder is read, so they cannot drift;
the user-set thumbnails are rows of ``FolderThumbnail``, at most four per folder (a constraint).
"""

from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel, SoftDeleteModel

MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000
MAX_THUMBNAILS = 4
PUBLIC_PREFIX = "p-"


class Folder(BaseModel, SoftDeleteModel):
    """One private or public folder. ``updated_at`` moves on rename and when items come or go."""

    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="folders")
    is_public = models.BooleanField(default=False)
    name = models.CharField(max_length=MAX_NAME_LENGTH)
    description = models.TextField(blank=True, max_length=MAX_DESCRIPTION_LENGTH)
    tags = models.JSONField(default=list, blank=True, help_text="Tag names, at most 10 (the tags app counts them).")

    class Meta:
        ordering = ["-created_at", "-id"]
        base_manager_name = "all_objects"
        permissions = [("restore_folder", "Can restore deleted folders")]
        indexes = [
            models.Index(
                fields=["owner", "is_public", "-created_at", "-id"],
                condition=Q(deleted_at__isnull=True),
                name="folder_owner_list",
            ),
            models.Index(
                fields=["-created_at", "-id"],
                condition=Q(deleted_at__isnull=True, is_public=True),
                name="folder_public_list",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="folder_name_not_empty"),
        ]

    def __str__(self):
        return f"{self.name} ({self.wire_id})"

    @property
    def wire_id(self) -> str:
        """The id as the AIMG API writes it: ``p-<uuid>`` for a public folder, the bare uuid otherwise."""
        return wire_id(self.pk, is_public=self.is_public)


def wire_id(pk, *, is_public: bool) -> str:
    return f"{PUBLIC_PREFIX}{pk}" if is_public else str(pk)


class FolderThumbnail(BaseModel):
    """An item the owner picked as one of a folder's (at most four) thumbnails, in ``position`` order.

    The cap is a database invariant: positions run from 0 to 3 and are unique per folder.
    """

    folder = models.ForeignKey(Folder, on_delete=models.CASCADE, related_name="thumbnail_links")
    item = models.ForeignKey("items.Item", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["folder", "position"]
        constraints = [
            models.UniqueConstraint(fields=["folder", "item"], name="folder_thumbnail_once"),
            models.UniqueConstraint(fields=["folder", "position"], name="folder_thumbnail_position_unique"),
            models.CheckConstraint(
                condition=Q(position__gte=0) & Q(position__lt=MAX_THUMBNAILS), name="folder_thumbnail_at_most_four"
            ),
        ]

    def __str__(self):
        return f"thumbnail {self.position} of {self.folder_id}: {self.item_id}"
