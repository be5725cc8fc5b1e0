"""Base models every app builds on, and the per-site Domain."""

import re
import uuid
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
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
        """Soft delete: marks the rows; nothing is removed. Returns what Django's delete returns."""
        count = self.filter(deleted_at__isnull=True).update(deleted_at=timezone.now())
        return count, ({self.model._meta.label: count} if count else {})

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
        if self.deleted_at is not None:
            return 0, {}
        now = timezone.now()
        count = type(self).all_objects.filter(pk=self.pk, deleted_at__isnull=True).update(deleted_at=now)
        self.deleted_at = now
        return count, ({self._meta.label: count} if count else {})

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
        origin = _origin(url)
        return origin is not None and origin in {_origin(o) for o in self.frontend_origins or []}


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, lower-cased, default port dropped; None otherwise."""
    if not isinstance(url, str) or any(c == "\\" or c.isspace() or ord(c) < 32 for c in url.strip()):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


_HOSTNAME_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def normalize_hostname(value: str) -> str:
    """``value`` lower-cased, without port and without the trailing dot of a fully qualified name."""
    host = (value or "").strip().lower()
    if host.startswith("["):  # IPv6 literal, maybe with a port
        return host.split("]", 1)[0] + "]"
    if host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    return host.rstrip(".")


class DomainHost(UUIDModel):
    """A host name (without port) that resolves to a domain."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="hosts")
    hostname = models.CharField(max_length=253)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("hostname"), name="unique_domain_hostname")]

    def __str__(self):
        return self.hostname

    def save(self, *args, **kwargs):
        self.hostname = normalize_hostname(self.hostname)
        super().save(*args, **kwargs)

    def clean(self):
        raw = (self.hostname or "").strip().lower().rstrip(".")
        self.hostname = normalize_hostname(raw)
        if raw != self.hostname or not (
            _HOSTNAME_RE.match(self.hostname) or re.match(r"^\[[0-9a-f:.]+\]$", self.hostname)
        ):
            raise ValidationError(
                {"hostname": "Enter a host name only, e.g. 'api.example.com' (no scheme, port or path)."}
            )


FILE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


class FileObject(TimeStampedModel, SoftDeleteModel):
    """A file on the AIMG file server (``uploadFile`` / ``getFile``), its bytes on Django storage.

    ``id`` may be chosen by the client. Removing a file soft-deletes the row and drops its resized
    variants; ``purge_deleted`` removes the original bytes after the retention period.
    """

    class Checksum(models.TextChoices):
        MD5 = "md5"
        SHA1 = "sha1"
        SHA256 = "sha256"
        SHA512 = "sha512"

    id = models.CharField(primary_key=True, max_length=128)
    file_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127)
    size = models.BigIntegerField()
    checksum = models.CharField(max_length=128)
    checksum_algorithm = models.CharField(max_length=10, choices=Checksum.choices, default=Checksum.SHA256)
    storage_name = models.CharField(max_length=500, unique=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    custom_metadata = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="uploaded_files"
    )

    class Meta:
        ordering = ["-created_at"]
        base_manager_name = "all_objects"
        verbose_name = "file"
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=0), name="file_size_not_negative"),
            models.CheckConstraint(
                condition=Q(checksum_algorithm__in=["md5", "sha1", "sha256", "sha512"]), name="file_checksum_known"
            ),
        ]

    def __str__(self):
        return f"{self.id} ({self.file_name})"


class AffiliateAd(BaseModel):
    """An affiliate ad of one site, shown by ``getAffiliateAd`` (weighted at random)."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="affiliate_ads")
    text = models.CharField(max_length=500)
    link = models.URLField(max_length=2000)
    weight = models.PositiveIntegerField(default=1, help_text="Relative chance of being shown (1 or more).")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["domain", "-weight"]
        verbose_name = "affiliate ad"
        indexes = [models.Index(fields=["domain", "is_active"])]
        constraints = [models.CheckConstraint(condition=Q(weight__gte=1), name="affiliate_ad_weight_positive")]

    def __str__(self):
        return self.text[:60]


class SqlQueryAudit(BaseModel):
    """One call of ``pgQuery``: who ran what, and how it ended."""

    user = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    admin_key_prefix = models.CharField(max_length=24, blank=True)
    request_id = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    query_text = models.TextField()
    query_params = models.JSONField(default=list, blank=True)
    succeeded = models.BooleanField(default=False)
    command = models.CharField(max_length=30, blank=True)
    row_count = models.IntegerField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "SQL console query"

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.query_text[:60]}"


class MediaResource(BaseModel, SoftDeleteModel):
    """An image (or other media) of the Sartiq catalogue, its bytes on Django storage.

    Every image a Sartiq resource refers to is one of these rows: URLs, base64 and data URIs,
    presigned uploads and references to existing rows all end here, after the media pipeline.
    The fields of MediaResourcePublic are measured on the normalized bytes; ``alt_text``,
    ``caption`` and ``protected`` are the annex fields a MediaInput may set. A protected resource is
    kept when the last resource that used it lets go of it.
    """

    class ResourceType(models.TextChoices):
        IMAGE = "image"
        VIDEO = "video"

    owner = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="media_resources"
    )
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.SET_NULL, null=True, blank=True, related_name="media_resources"
    )
    resource_type = models.CharField(max_length=10, choices=ResourceType.choices, default=ResourceType.IMAGE)
    storage_name = models.CharField(max_length=500, unique=True)
    thumbnail_name = models.CharField(max_length=500, blank=True)
    mime_type = models.CharField(max_length=100)
    content_hash = models.CharField(max_length=64, db_index=True, help_text="SHA-256 of the stored bytes.")
    extension = models.CharField(max_length=10)
    file_size = models.BigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    aspect_ratio = models.FloatField(null=True, blank=True, help_text="Width divided by height.")
    orientation = models.CharField(max_length=10, blank=True)
    dominant_color = models.CharField(max_length=7, blank=True)
    color_profile = models.CharField(max_length=50, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="Seconds, for video.")
    alt_text = models.TextField(null=True, blank=True)
    caption = models.TextField(null=True, blank=True)
    protected = models.BooleanField(default=False)
    source = models.CharField(max_length=20, blank=True, help_text="How the bytes arrived: url, base64, upload.")
    source_url = models.CharField(max_length=2000, blank=True)

    class Meta:
        ordering = ["-created_at"]
        base_manager_name = "all_objects"
        verbose_name = "media resource"
        constraints = [
            models.CheckConstraint(condition=Q(file_size__gte=0), name="media_resource_size_not_negative"),
            models.CheckConstraint(condition=Q(resource_type__in=["image", "video"]), name="media_resource_type_known"),
        ]

    def __str__(self):
        return f"{self.resource_type} {self.pk} ({self.width}x{self.height} {self.extension})"


class Upload(BaseModel):
    """A presigned upload target handed out by ``POST /api/v1/uploads/``.

    The client sends the bytes straight to storage (S3 presigned POST) or to the signed local
    upload URL, before ``expires_at`` and within ``max_bytes``; then it names the upload's file URL
    in an image field, which turns the bytes into a MediaResource (once: later uses get the same
    resource). Unused uploads are removed by ``purge_stale_uploads``.
    """

    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="uploads")
    storage_name = models.CharField(max_length=500, unique=True)
    filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    max_bytes = models.BigIntegerField()
    expires_at = models.DateTimeField()
    direct = models.BooleanField(default=False, help_text="Sent straight to S3 (presigned POST).")
    receiving_since = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    media_resource = models.ForeignKey(
        MediaResource, on_delete=models.SET_NULL, null=True, blank=True, related_name="uploads"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(max_bytes__gt=0), name="upload_max_bytes_positive")]

    def __str__(self):
        return f"upload {self.pk}"
