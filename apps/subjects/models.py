"""Subjects of the Sartiq catalogue: the models (people or AI personas) a studio shoots.

A subject has a cover, a portrait, data images (for LoRA training), portfolio images, one base
image per shot type (the reference generation starts from), optional measurements, and a LoRA.
``ready`` is derived (see ``services.refresh_readiness``); ZIP uploads of base images run as
``SubjectBaseImagesUploadTask`` rows processed by a worker.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel, MediaResource, UUIDModel
from apps.core.sartiq.lora import LoraModel, LoraStatus
from apps.core.sartiq.ownership import OwnedResource

NAME_MAX_LENGTH = 255
TEXT_MAX_LENGTH = 1000
PROMPT_MAX_LENGTH = 4000
ETHNICITY_MAX_LENGTH = 100
SLUG_MAX_LENGTH = 300
MAX_DATA_IMAGES = 50
MAX_PORTFOLIO_IMAGES = 100
MAX_BASE_IMAGES = 100

# Measurement bounds (centimetres; EU shoe sizes, half sizes allowed). Wide enough for newborns.
HEIGHT_CM = (30.0, 250.0)
GIRTH_CM = (20.0, 200.0)
SHOE_EU = (15.0, 52.0)


class SubjectAgeClass(models.TextChoices):
    NEWBORN = "newborn", "Newborn (0-3 months)"
    BABY = "baby", "Baby (3-12 months)"
    TODDLER = "toddler", "Toddler (1-3 years)"
    CHILD = "child", "Child (4-12 years)"
    TEEN = "teen", "Teen (13-17 years)"
    ADULT = "adult", "Adult (18-59 years)"
    SENIOR = "senior", "Senior (60+ years)"


class Gender(models.TextChoices):
    MALE = "MALE", "Male"
    FEMALE = "FEMALE", "Female"


class SubjectType(models.TextChoices):
    AI = "AI", "AI persona (generated)"
    REAL = "REAL", "Real person (licensed likeness)"
    MANNEQUIN = "MANNEQUIN", "Mannequin"


class BodyType(models.TextChoices):
    PETITE = "PETITE", "Petite"
    SLIM = "SLIM", "Slim"
    ATHLETIC = "ATHLETIC", "Athletic"
    AVERAGE = "AVERAGE", "Average"
    CURVY = "CURVY", "Curvy"
    PLUS_SIZE = "PLUS_SIZE", "Plus size"
    TALL = "TALL", "Tall"


class EyeColor(models.TextChoices):
    BROWN = "BROWN", "Brown"
    BLUE = "BLUE", "Blue"
    GREEN = "GREEN", "Green"
    HAZEL = "HAZEL", "Hazel"
    GREY = "GREY", "Grey"
    AMBER = "AMBER", "Amber"
    BLACK = "BLACK", "Black"


class HairColor(models.TextChoices):
    BLACK = "BLACK", "Black"
    BROWN = "BROWN", "Brown"
    BLONDE = "BLONDE", "Blonde"
    RED = "RED", "Red"
    AUBURN = "AUBURN", "Auburn"
    GREY = "GREY", "Grey"
    WHITE = "WHITE", "White"
    BALD = "BALD", "Bald"
    OTHER = "OTHER", "Other (dyed)"


class TaskStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    PROCESSING = "PROCESSING", "Processing"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"


def _known(field: str, choices, *, nullable: bool = False) -> Q:
    condition = Q(**{f"{field}__in": choices.values})
    return condition | Q(**{f"{field}__isnull": True}) if nullable else condition


class Subject(OwnedResource, LoraModel):
    """A subject. Its slug is made from the name once, at creation (a copy gets a fresh one)."""

    name = models.CharField(max_length=NAME_MAX_LENGTH)
    surname = models.CharField(max_length=NAME_MAX_LENGTH, null=True, blank=True)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, editable=False)
    description = models.CharField(max_length=TEXT_MAX_LENGTH, null=True, blank=True)
    age_class = models.CharField(max_length=20, choices=SubjectAgeClass.choices)
    gender = models.CharField(max_length=10, choices=Gender.choices, default=Gender.FEMALE)
    subject_type = models.CharField(max_length=20, choices=SubjectType.choices, default=SubjectType.AI)
    body_type = models.CharField(max_length=20, choices=BodyType.choices, null=True, blank=True)
    positive_prompt = models.TextField(null=True, blank=True)
    negative_prompt = models.TextField(null=True, blank=True)
    ethnicity = models.CharField(max_length=ETHNICITY_MAX_LENGTH, null=True, blank=True)
    public = models.BooleanField(default=False, help_text="Visible to every user.")
    enabled = models.BooleanField(default=True)
    ready = models.BooleanField(
        default=False,
        editable=False,
        help_text="A cover and a base image for every shot type its guidelines need, and not held back.",
    )
    held_back = models.BooleanField(
        default=False, help_text="Set by an update with ready=false: the subject is not ready whatever it has."
    )
    cover_image = models.ForeignKey(
        MediaResource, on_delete=models.SET_NULL, null=True, blank=True, related_name="subjects_as_cover"
    )
    portrait_image = models.ForeignKey(
        MediaResource, on_delete=models.SET_NULL, null=True, blank=True, related_name="subjects_as_portrait"
    )
    copied_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="copies", editable=False
    )

    class Meta(OwnedResource.Meta):
        indexes = [
            models.Index(fields=["owner", "organization"], name="subject_owner_org"),
            models.Index(fields=["organization", "public"], name="subject_org_public"),
        ]
        constraints = [
            models.CheckConstraint(condition=_known("age_class", SubjectAgeClass), name="subject_age_class_known"),
            models.CheckConstraint(condition=_known("gender", Gender), name="subject_gender_known"),
            models.CheckConstraint(condition=_known("subject_type", SubjectType), name="subject_type_known"),
            models.CheckConstraint(
                condition=_known("body_type", BodyType, nullable=True), name="subject_body_type_known"
            ),
            models.CheckConstraint(condition=_known("lora_status", LoraStatus), name="subject_lora_status_known"),
            models.CheckConstraint(condition=~Q(held_back=True, ready=True), name="subject_held_back_not_ready"),
        ]

    def __str__(self):
        return f"{self.name} {self.surname}" if self.surname else self.name


def _bounded(field: str, bounds: tuple[float, float]) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": bounds[0], f"{field}__lte": bounds[1]})


class SubjectMeasurements(UUIDModel):
    """A subject's measurements (one-to-one): centimetres, EU shoe size, eye and hair colour."""

    subject = models.OneToOneField(Subject, on_delete=models.CASCADE, related_name="measurements")
    height_cm = models.FloatField(null=True, blank=True, help_text=f"{HEIGHT_CM[0]:g} to {HEIGHT_CM[1]:g} cm.")
    bust_cm = models.FloatField(null=True, blank=True, help_text=f"{GIRTH_CM[0]:g} to {GIRTH_CM[1]:g} cm.")
    waist_cm = models.FloatField(null=True, blank=True, help_text=f"{GIRTH_CM[0]:g} to {GIRTH_CM[1]:g} cm.")
    hips_cm = models.FloatField(null=True, blank=True, help_text=f"{GIRTH_CM[0]:g} to {GIRTH_CM[1]:g} cm.")
    shoe_eu = models.FloatField(
        null=True, blank=True, help_text=f"EU size {SHOE_EU[0]:g} to {SHOE_EU[1]:g}, in half sizes."
    )
    eye_color = models.CharField(max_length=20, choices=EyeColor.choices, null=True, blank=True)
    hair_color = models.CharField(max_length=20, choices=HairColor.choices, null=True, blank=True)

    class Meta:
        verbose_name = "subject measurements"
        verbose_name_plural = "subject measurements"
        constraints = [
            models.CheckConstraint(condition=_bounded("height_cm", HEIGHT_CM), name="subject_height_bounded"),
            models.CheckConstraint(condition=_bounded("bust_cm", GIRTH_CM), name="subject_bust_bounded"),
            models.CheckConstraint(condition=_bounded("waist_cm", GIRTH_CM), name="subject_waist_bounded"),
            models.CheckConstraint(condition=_bounded("hips_cm", GIRTH_CM), name="subject_hips_bounded"),
            models.CheckConstraint(condition=_bounded("shoe_eu", SHOE_EU), name="subject_shoe_bounded"),
            models.CheckConstraint(condition=_known("eye_color", EyeColor, nullable=True), name="subject_eyes_known"),
            models.CheckConstraint(condition=_known("hair_color", HairColor, nullable=True), name="subject_hair_known"),
        ]

    def __str__(self):
        return f"measurements of {self.subject_id}"


class SubjectImage(UUIDModel):
    """One of a subject's data images (LoRA training set) or portfolio images, in order."""

    class Kind(models.TextChoices):
        DATA = "data", "Data image"
        PORTFOLIO = "portfolio", "Portfolio image"

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="image_links")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    media = models.ForeignKey(MediaResource, on_delete=models.CASCADE, related_name="subject_image_links")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["subject", "kind", "position"]
        verbose_name = "subject image"
        constraints = [
            models.UniqueConstraint(fields=["subject", "kind", "position"], name="unique_subject_image_position"),
            models.CheckConstraint(condition=Q(kind__in=["data", "portfolio"]), name="subject_image_kind_known"),
        ]

    def __str__(self):
        return f"{self.subject_id} {self.kind} #{self.position}"


class SubjectBaseImage(BaseModel):
    """The base image of a subject for one shot type (at most one per shot type)."""

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="base_images")
    shot_type = models.ForeignKey("guidelines.ShotType", on_delete=models.CASCADE, related_name="subject_base_images")
    media = models.ForeignKey(MediaResource, on_delete=models.CASCADE, related_name="subject_base_image_links")

    class Meta:
        ordering = ["subject", "created_at", "id"]
        verbose_name = "subject base image"
        constraints = [
            models.UniqueConstraint(fields=["subject", "shot_type"], name="unique_subject_base_image_shot_type"),
        ]

    def __str__(self):
        return f"{self.subject_id} / {self.shot_type_id}"


class SubjectBaseImagesUploadTask(BaseModel):
    """A ZIP of base images being ingested by a worker (SubjectBaseImagesUploadTaskPublic).

    The archive waits in storage under ``archive_name`` until the worker is done with it. The
    counters only grow while the task runs; ``progress`` is ``processed_items`` over
    ``total_items`` in percent.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subject_upload_tasks")
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="upload_tasks")
    status = models.CharField(max_length=12, choices=TaskStatus.choices, default=TaskStatus.PENDING)
    created_subject = models.BooleanField(
        default=False, help_text="The subject was made from the archive's metadata.json."
    )
    progress = models.PositiveSmallIntegerField(default=0)
    total_items = models.PositiveIntegerField(default=0)
    processed_items = models.PositiveIntegerField(default=0)
    images_processed = models.PositiveIntegerField(default=0)
    images_skipped = models.PositiveIntegerField(default=0)
    portfolio_images_processed = models.PositiveIntegerField(default=0)
    error_message = models.TextField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    result_data = models.JSONField(null=True, blank=True)
    archive_name = models.CharField(max_length=500, blank=True, help_text="The archive in storage, until processed.")
    archive_size = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "subject base images upload"
        indexes = [models.Index(fields=["subject", "-created_at"], name="subject_upload_latest")]
        constraints = [
            models.CheckConstraint(condition=_known("status", TaskStatus), name="subject_upload_status_known"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="subject_upload_progress_percent"),
            models.CheckConstraint(
                condition=Q(processed_items__lte=models.F("total_items")), name="subject_upload_processed_le_total"
            ),
        ]

    def __str__(self):
        return f"upload {self.pk} ({self.status})"
