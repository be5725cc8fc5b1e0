"""Base models every app builds on, and the per-site Domain."""

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone


class UUIDModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class BaseModel(UUIDModel, TimeStampedModel):
    class Meta:
        abstract = True


class SoftDeleteQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def dead(self):
        return self.filter(deleted_at__isnull=False)

    def delete(self):
        """Soft delete: marks the rows; nothing is removed."""
        return self.filter(deleted_at__isnull=True).update(deleted_at=timezone.now())

    def restore(self):
        return self.filter(deleted_at__isnull=False).update(deleted_at=None)

    def hard_delete(self):
        return super().delete()


class SoftDeleteManager(models.Manager.from_queryset(SoftDeleteQuerySet)):
    """The default manager: deleted rows are invisible."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class AllObjectsManager(models.Manager.from_queryset(SoftDeleteQuerySet)):
    """Every row, deleted or not (restores, retention purges, the back office)."""


class SoftDeleteModel(models.Model):
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)

    objects = SoftDeleteManager()
    all_objects = AllObjectsManager()

    class Meta:
        abstract = True
        base_manager_name = "all_objects"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def delete(self, using=None, keep_parents=False):
        """Soft delete. Use ``hard_delete`` to remove the row for good."""
        if self.deleted_at is None:
            self.deleted_at = timezone.now()
            type(self).all_objects.filter(pk=self.pk, deleted_at__isnull=True).update(deleted_at=self.deleted_at)
        return (1, {self._meta.label: 1})

    def restore(self):
        type(self).all_objects.filter(pk=self.pk).update(deleted_at=None)
        self.deleted_at = None

    def hard_delete(self, using=None, keep_parents=False):
        return super().delete(using=using, keep_parents=keep_parents)


class Domain(BaseModel):
    """One branded site served by this deployment (for example a production and a staging site)."""

    name = models.CharField("display name", max_length=120)
    code = models.SlugField(
        "identifier", max_length=60, unique=True, help_text="Stable identifier, e.g. 'freejourney'."
    )
    environment = models.CharField(
        max_length=30, default="production", help_text="Environment identifier, e.g. 'production' or 'staging'."
    )
    frontend_origins = models.JSONField(
        default=list,
        blank=True,
        help_text="Front-end origins (scheme://host[:port]) allowed as redirect targets and in magic links.",
    )
    is_default = models.BooleanField(default=False, help_text="Serves requests whose host matches no domain.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "environment"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_domain"),
        ]

    def __str__(self):
        return f"{self.name} ({self.environment})"

    def allows_origin(self, url: str) -> bool:
        """True when ``url`` points at one of this domain's front-end origins."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        return origin in {o.rstrip("/").lower() for o in self.frontend_origins}


class DomainHost(UUIDModel):
    """A host name (without port) that resolves to a domain."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="hosts")
    hostname = models.CharField(max_length=253)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("hostname"), name="unique_domain_hostname")]

    def __str__(self):
        return self.hostname

    def save(self, *args, **kwargs):
        self.hostname = self.hostname.strip().lower()
        super().save(*args, **kwargs)
