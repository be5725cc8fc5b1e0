"""Identity: users (one per email per domain), API sessions, bearer tokens, admin keys,
organizations and memberships."""

import hashlib
import hmac
import secrets
import uuid

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from apps.core.models import AllObjectsManager, BaseModel, Domain, SoftDeleteModel, SoftDeleteQuerySet, UUIDModel


class UserManager(BaseUserManager.from_queryset(SoftDeleteQuerySet)):
    use_in_migrations = True

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)

    def _create_user(self, email, password, domain=None, **extra):
        from apps.core.domains import default_domain

        if not email:
            raise ValueError("An email is required.")
        domain = domain or default_domain()
        email = self.normalize_email(email).strip()
        if "username" not in extra:
            extra["username"] = self.free_username(email.split("@")[0], domain)
        user = self.model(email=email, domain=domain, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def free_username(self, wanted: str, domain) -> str:
        """``wanted`` if no live user of ``domain`` has it, else the first free ``wanted2``, ``wanted3``…"""
        wanted = wanted.strip()[:140]
        if not wanted:
            return ""
        taken = {
            name.lower()
            for name in self.filter(domain=domain, username__istartswith=wanted).values_list("username", flat=True)
        }
        candidate, number = wanted, 1
        while candidate.lower() in taken:
            number += 1
            candidate = f"{wanted}{number}"
        return candidate

    def create_user(self, email, password=None, domain=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, domain, **extra)

    def create_superuser(self, email, password=None, domain=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, domain, **extra)

    def get_by_natural_key(self, email):
        """The user with ``email`` on the default domain (where ``createsuperuser`` creates users).

        The same email may exist once per domain; DomainEmailBackend scopes sign-ins by domain.
        """
        from apps.core.domains import default_domain

        return self.get(email__iexact=email, domain=default_domain())


class User(UUIDModel, SoftDeleteModel, AbstractBaseUser, PermissionsMixin):
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="users")
    email = models.EmailField(max_length=254)
    username = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can sign in to the back office.")
    date_joined = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    # AIMG profile
    is_at_least_18_confirmed = models.BooleanField(default=False)
    abuse_level = models.PositiveSmallIntegerField(
        default=0, help_text="0: no limits; 1: generation blocked; 9: signed out everywhere and sign-in blocked."
    )
    profile_picture = models.BinaryField(null=True, blank=True, editable=False, help_text="128x128 WebP")
    profile_picture_banned = models.BooleanField(default=False)
    additional_information = models.TextField(blank=True, help_text="Staff notes about the user.")
    ref_list = models.JSONField(default=list, blank=True, help_text="Browser referrers at sign-up.")
    referrer = models.CharField("affiliate referrer (rs)", max_length=200, blank=True)
    # Which internal ways the user has signed in with (OAuth ones are social accounts).
    has_signed_in_with_otp = models.BooleanField(default=False, editable=False)
    has_signed_in_with_password = models.BooleanField(default=False, editable=False)

    objects = UserManager()
    all_objects = AllObjectsManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["-date_joined"]
        base_manager_name = "all_objects"
        permissions = [("moderate_user", "Can moderate users (abuse level, profile picture bans)")]
        constraints = [
            models.UniqueConstraint(
                Lower("email"), "domain", condition=Q(deleted_at__isnull=True), name="unique_live_user_email_per_domain"
            ),
            models.UniqueConstraint(
                Lower("username"),
                "domain",
                condition=Q(deleted_at__isnull=True) & ~Q(username=""),
                name="unique_live_username_per_domain",
            ),
            models.CheckConstraint(condition=Q(abuse_level__lte=9), name="user_abuse_level_0_to_9"),
        ]

    def __str__(self):
        return self.email

    @property
    def created_at(self):
        return self.date_joined


class SecretQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class HashedSecret(BaseModel):
    """A random secret shown once and stored only as a SHA-256 hash.

    The plain secret reads ``<prefix>.<key>``: the prefix finds the row, the key's hash is compared
    in constant time. Secrets are 32 random bytes, so a fast hash is the right one.
    """

    PREFIX_TAG = "at"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=24, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = SecretQuerySet.as_manager()

    class Meta:
        abstract = True

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def new_secret(cls) -> tuple[str, str, str]:
        """(plain secret, prefix, hash)."""
        prefix = f"{cls.PREFIX_TAG}_{secrets.token_hex(8)}"
        key = secrets.token_urlsafe(32)
        return f"{prefix}.{key}", prefix, cls.hash_key(key)

    @staticmethod
    def split(secret: str) -> tuple[str, str] | None:
        prefix, sep, key = secret.partition(".")
        if not sep or not prefix or not key or len(prefix) > 24:
            return None
        return prefix, key

    def matches(self, key: str) -> bool:
        return hmac.compare_digest(self.secret_hash, self.hash_key(key))

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())


class AccessToken(HashedSecret):
    """Bearer token (Sartiq, Neuroflash, OCS)."""

    PREFIX_TAG = "atk"

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.prefix} ({self.user})"


class AdminKey(HashedSecret):
    """Personal administration key (``X-Administration-Key``); it acts as its staff owner."""

    PREFIX_TAG = "akey"

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "admin key"

    def __str__(self):
        return f"{self.prefix} ({self.user})"


class AppPassword(HashedSecret):
    """An app password: a second password for one client (Nextcloud OCS clients send it with HTTP
    Basic instead of the account password). Stored as a hash; revoking it signs that client out."""

    PREFIX_TAG = "app"

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "app password"

    def __str__(self):
        return f"{self.prefix} ({self.user})"


class ApiSession(BaseModel):
    """A server-made session behind ``X-Session-ID``: a guest's, or a signed-in user's."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name="session ID")
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="api_sessions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="api_sessions"
    )
    last_seen_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # A guest's 18+ confirmation, carried over to the user when the session signs in.
    is_at_least_18_confirmed = models.BooleanField(default=False)

    objects = SecretQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = "API session"
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self):
        return str(self.id)

    @property
    def is_guest(self) -> bool:
        return self.user_id is None


class Organization(BaseModel, SoftDeleteModel):
    """A team: it scopes the Sartiq catalogue, and a Neuroflash workspace is one."""

    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="organizations")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="organizations")

    class Meta:
        ordering = ["name"]
        base_manager_name = "all_objects"
        constraints = [
            models.UniqueConstraint(
                "domain", "slug", condition=Q(deleted_at__isnull=True), name="unique_live_organization_slug"
            )
        ]

    def __str__(self):
        return self.name


class Membership(BaseModel):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        ordering = ["organization", "user"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="unique_membership"),
            models.CheckConstraint(condition=Q(role__in=["owner", "admin", "member"]), name="membership_role_valid"),
        ]

    def __str__(self):
        return f"{self.user} in {self.organization} ({self.role})"


class UserKeyValue(BaseModel):
    """A user's key-value pair (AIMG getUserKVP / setUserKVP / deleteUserKVP)."""

    MAX_KEY_LENGTH = 128
    MAX_VALUE_BYTES = 64 * 1024
    MAX_KEYS_PER_USER = 200

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="key_values")
    key = models.CharField(max_length=MAX_KEY_LENGTH)
    value = models.TextField()

    class Meta:
        ordering = ["user", "key"]
        verbose_name = "key-value pair"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="unique_user_key")]

    def __str__(self):
        return self.key


class OneTimePassword(BaseModel):
    """A 6-digit sign-in code for an email of a domain, stored only as a keyed hash (HMAC)."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(max_length=254, help_text="Lower-cased.")
    code_hash = models.CharField(max_length=64, editable=False)
    expires_at = models.DateTimeField()
    consumed_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True, help_text="Set when a newer code was issued.")
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    sign_up = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "one-time password"
        indexes = [models.Index(fields=["domain", "email", "created_at"])]

    def __str__(self):
        return f"{self.email} ({self.created_at:%Y-%m-%d %H:%M})"


class ArchivedEmail(BaseModel):
    """An email a user had before changing it (AIMG ArchivedEmail)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="archived_emails")
    email = models.EmailField(max_length=254)
    archived_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-archived_at"]

    def __str__(self):
        return self.email
