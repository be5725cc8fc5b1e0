"""A user's tag vocabulary (AIMG Tag): every tag they ever applied, with how often it is in use.

Items and folders carry their tags as JSON lists of names (``items.Item.tags``, ``folders.Folder.tags``);
``usage_count`` is how many of the user's live items and folders carry the tag now. It changes only
through ``apps.tags.services`` (``F()`` updates while the tagged row is locked), and ``recount_tags``
recomputes it from the rows. Vocabularies are per user: tag names of private items are nobody
else's business.
"""

from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel

MAX_TAG_LENGTH = 32
MAX_TAGS = 10


class Tag(BaseModel):
    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=MAX_TAG_LENGTH)
    usage_count = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-usage_count", "name"]
        permissions = [("recount_tag", "Can recount tag usage")]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="tag_name_unique_per_owner"),
            models.CheckConstraint(condition=Q(usage_count__gte=0), name="tag_usage_not_negative"),
            models.CheckConstraint(condition=~Q(name=""), name="tag_name_not_empty"),
        ]
        indexes = [models.Index(fields=["owner", "-usage_count", "name"], name="tag_by_usage")]

    def __str__(self):
        return self.name
