"""Shot types, presets (background, resolution, pose), set designs and shooting guidelines of the
Sartiq catalogue.

Each is an OwnedResource (owner, optional organization, soft delete). Images are MediaResource
rows (apps.core), referred to with ``SET_NULL`` so purging an image never takes a resource with it.
"""

from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel, MediaResource, UUIDModel
from apps.core.sartiq.ownership import OwnedResource

NAME_MAX_LENGTH = 255
# Largest side of a resolution preset, in pixels (16K).
MAX_RESOLUTION_SIDE = 16384


class Framing(models.TextChoices):
    """How much of the model a shot shows (ShotTypeFraming)."""

    FULL_BODY = "full_body", "Full body (head to feet)"
    THREE_QUARTER = "three_quarter", "Three-quarter (head to knees)"
    UPPER_BODY = "upper_body", "Upper body (head to waist)"
    LOWER_BODY = "lower_body", "Lower body (waist to feet)"
    CLOSE_UP = "close_up", "Close-up (head and shoulders)"
    DETAIL = "detail", "Detail (a garment or accessory up close)"


class ViewAngle(models.TextChoices):
    """Where the camera stands relative to the model."""

    FRONT = "front", "Front"
    BACK = "back", "Back"
    LEFT = "left", "Left side"
    RIGHT = "right", "Right side"
    FRONT_LEFT = "front_left", "Three-quarter front left"
    FRONT_RIGHT = "front_right", "Three-quarter front right"
    BACK_LEFT = "back_left", "Three-quarter back left"
    BACK_RIGHT = "back_right", "Three-quarter back right"
    TOP = "top", "From above (flat lay)"


class DefaultShotType(models.TextChoices):
    """The standard shots of a catalogue shoot a shot type can stand for (DefaultShotTypes)."""

    FRONT_FULL_BODY = "front_full_body", "Front, full body"
    BACK_FULL_BODY = "back_full_body", "Back, full body"
    SIDE_FULL_BODY = "side_full_body", "Side, full body"
    FRONT_UPPER_BODY = "front_upper_body", "Front, upper body"
    FRONT_CLOSE_UP = "front_close_up", "Front, close-up"
    DETAIL = "detail", "Detail"


class BackgroundFixStrategy(models.TextChoices):
    DEFAULT = "DEFAULT", "Default"
    OVS = "OVS", "OVS"


def _choices_check(field: str, choices, *, nullable: bool = False) -> Q:
    condition = Q(**{f"{field}__in": choices.values})
    return condition | Q(**{f"{field}__isnull": True}) if nullable else condition


class ShotType(OwnedResource):
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    view_angle = models.CharField(max_length=20, choices=ViewAngle.choices)
    framing = models.CharField(max_length=20, choices=Framing.choices)
    shot_type_ref_image = models.ForeignKey(
        MediaResource, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shot_type_prompt_instruction = models.TextField(null=True, blank=True)
    file_naming_convention = models.TextField(null=True, blank=True)
    reference_image = models.ForeignKey(
        MediaResource, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    prompt = models.TextField(null=True, blank=True)
    prompt_builder_section = models.TextField(null=True, blank=True)
    core_focus = models.BooleanField(default=False)
    default_shot_type = models.CharField(max_length=30, choices=DefaultShotType.choices, null=True, blank=True)
    margins = models.TextField(null=True, blank=True)
    public = models.BooleanField(default=True)

    class Meta(OwnedResource.Meta):
        verbose_name = "shot type"
        indexes = [models.Index(fields=["name"]), models.Index(fields=["public", "deleted_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"],
                condition=Q(organization__isnull=True, deleted_at__isnull=True),
                name="unique_live_personal_shot_type_name",
            ),
            models.UniqueConstraint(
                fields=["organization", "name"],
                condition=Q(organization__isnull=False, deleted_at__isnull=True),
                name="unique_live_organization_shot_type_name",
            ),
            models.CheckConstraint(
                condition=_choices_check("view_angle", ViewAngle), name="shot_type_view_angle_valid"
            ),
            models.CheckConstraint(condition=_choices_check("framing", Framing), name="shot_type_framing_valid"),
            models.CheckConstraint(
                condition=_choices_check("default_shot_type", DefaultShotType, nullable=True),
                name="shot_type_default_valid",
            ),
        ]

    def __str__(self):
        return self.name

    def images(self) -> list:
        return [image for image in (self.reference_image, self.shot_type_ref_image) if image is not None]


class BackgroundPreset(OwnedResource):
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    strategy = models.CharField(
        max_length=20,
        choices=BackgroundFixStrategy.choices,
        null=True,
        blank=True,
        default=BackgroundFixStrategy.DEFAULT,
    )

    class Meta(OwnedResource.Meta):
        verbose_name = "background preset"
        constraints = [
            models.CheckConstraint(
                condition=_choices_check("strategy", BackgroundFixStrategy, nullable=True),
                name="background_preset_strategy_valid",
            ),
        ]

    def __str__(self):
        return self.name


class BackgroundPresetFraming(BaseModel):
    """One image of a background preset: for one framing, or (framing null) for any other framing."""

    preset = models.ForeignKey(BackgroundPreset, on_delete=models.CASCADE, related_name="framings")
    position = models.PositiveSmallIntegerField(default=0)
    framing = models.CharField(max_length=20, choices=Framing.choices, null=True, blank=True)
    image = models.ForeignKey(MediaResource, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["preset", "position"]
        verbose_name = "background preset framing"
        constraints = [
            models.UniqueConstraint(fields=["preset", "framing"], name="unique_background_preset_framing"),
            models.UniqueConstraint(
                fields=["preset"], condition=Q(framing__isnull=True), name="one_fallback_background_framing"
            ),
            models.CheckConstraint(
                condition=_choices_check("framing", Framing, nullable=True), name="background_framing_valid"
            ),
        ]

    def __str__(self):
        return f"{self.preset} / {self.framing or 'any framing'}"


class ResolutionPreset(OwnedResource):
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta(OwnedResource.Meta):
        verbose_name = "resolution preset"
        constraints = [
            models.CheckConstraint(
                condition=Q(width__gte=1, width__lte=MAX_RESOLUTION_SIDE), name="resolution_preset_width_bounded"
            ),
            models.CheckConstraint(
                condition=Q(height__gte=1, height__lte=MAX_RESOLUTION_SIDE), name="resolution_preset_height_bounded"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.width}x{self.height})"


# --- pose presets and set designs (managed in the back office) ----------------------------------


class PosePreset(OwnedResource):
    """A pose for one shot type: a prompt and a reference image (PosePresetPublic)."""

    name = models.CharField(max_length=NAME_MAX_LENGTH)
    prompt = models.TextField(null=True, blank=True)
    shot_type = models.ForeignKey(ShotType, on_delete=models.CASCADE, related_name="pose_presets")
    pose_image = models.ForeignKey(MediaResource, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta(OwnedResource.Meta):
        verbose_name = "pose preset"

    def __str__(self):
        return self.name


class SetDesign(OwnedResource):
    """A set: a background preset, base images of subjects per shot type, reference images and
    subject portraits (SetDesignPublic)."""

    name = models.CharField(max_length=NAME_MAX_LENGTH)
    description = models.TextField(null=True, blank=True)
    background_preset = models.ForeignKey(
        BackgroundPreset, on_delete=models.SET_NULL, null=True, blank=True, related_name="set_designs"
    )

    class Meta(OwnedResource.Meta):
        verbose_name = "set design"

    def __str__(self):
        return self.name


class SetBaseImage(BaseModel):
    """A base image of a subject on a set, for one shot type (several variants each)."""

    set_design = models.ForeignKey(SetDesign, on_delete=models.CASCADE, related_name="base_images")
    subject = models.ForeignKey("subjects.Subject", on_delete=models.CASCADE, related_name="set_base_images")
    shot_type = models.ForeignKey(ShotType, on_delete=models.CASCADE, related_name="+")
    image = models.ForeignKey(MediaResource, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    variant_index = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["set_design", "created_at", "id"]
        verbose_name = "set base image"
        constraints = [
            models.UniqueConstraint(
                fields=["set_design", "subject", "shot_type", "variant_index"], name="unique_set_base_image_variant"
            ),
        ]

    def __str__(self):
        return f"{self.set_design_id} / {self.subject_id} / {self.shot_type_id} #{self.variant_index}"


class SetReferenceImage(BaseModel):
    """A reference image of a set for one shot type."""

    set_design = models.ForeignKey(SetDesign, on_delete=models.CASCADE, related_name="reference_images")
    shot_type = models.ForeignKey(ShotType, on_delete=models.CASCADE, related_name="+")
    image = models.ForeignKey(MediaResource, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    label = models.CharField(max_length=NAME_MAX_LENGTH, null=True, blank=True)

    class Meta:
        ordering = ["set_design", "created_at", "id"]
        verbose_name = "set reference image"

    def __str__(self):
        return self.label or f"{self.set_design_id} / {self.shot_type_id}"


class SetSubjectPortrait(BaseModel):
    """The portrait of a subject on a set (SubjectPortraitPublic)."""

    set_design = models.ForeignKey(SetDesign, on_delete=models.CASCADE, related_name="subject_portraits")
    subject = models.ForeignKey("subjects.Subject", on_delete=models.CASCADE, related_name="set_portraits")
    image = models.ForeignKey(MediaResource, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["set_design", "created_at", "id"]
        verbose_name = "set subject portrait"
        constraints = [
            models.UniqueConstraint(fields=["set_design", "subject"], name="unique_set_subject_portrait"),
        ]

    def __str__(self):
        return f"{self.set_design_id} / {self.subject_id}"


# --- shooting guidelines -------------------------------------------------------------------------


class ShotTypeRuleKind(models.TextChoices):
    """What a shot-type rule looks at: a product's placement on the body (its ``rule_value`` is free
    text such as ``TOP``, ``BOTTOM``, ``FEET``), its category, or the subject's gender or age class
    (values of Gender and SubjectAgeClass)."""

    PLACEMENT = "PLACEMENT", "Placement of the product"
    CATEGORY = "CATEGORY", "Product category"
    GENDER = "GENDER", "Subject gender"
    AGE_CLASS = "AGE_CLASS", "Subject age class"


RULE_VALUE_MAX_LENGTH = 255


class ShootingGuidelines(OwnedResource):
    """How a shoot is done: its shot types, subjects, presets, pose presets, set design and the
    shot-type rules that pick shots per product (ShootingGuidelinesPublic)."""

    name = models.CharField(max_length=NAME_MAX_LENGTH)
    auto_start_look_generations = models.BooleanField(default=True)
    allow_back_shots_without_back_image = models.BooleanField(
        default=False, help_text="Back-view shot types need no base image of the subject."
    )
    resolution_preset = models.ForeignKey(
        ResolutionPreset, on_delete=models.SET_NULL, null=True, blank=True, related_name="guidelines"
    )
    background_preset = models.ForeignKey(
        BackgroundPreset, on_delete=models.SET_NULL, null=True, blank=True, related_name="guidelines"
    )
    set_design = models.ForeignKey(
        SetDesign, on_delete=models.SET_NULL, null=True, blank=True, related_name="guidelines"
    )
    stylist_id = models.UUIDField(null=True, blank=True, help_text="A stylist of another service (not checked).")
    export_configuration_id = models.UUIDField(
        null=True, blank=True, help_text="An export configuration of another service (not checked)."
    )
    generative_workflow_template = models.ForeignKey(
        "text2image.WorkflowTemplate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="shooting_guidelines",
        help_text="A validated workflow template of the guidelines' organization (or a shared one).",
    )

    class Meta(OwnedResource.Meta):
        verbose_name = "shooting guidelines"
        verbose_name_plural = "shooting guidelines"
        indexes = [models.Index(fields=["owner", "organization"], name="guidelines_owner_org")]

    def __str__(self):
        return self.name


class GuidelineShotType(UUIDModel):
    guideline = models.ForeignKey(ShootingGuidelines, on_delete=models.CASCADE, related_name="shot_type_links")
    shot_type = models.ForeignKey(ShotType, on_delete=models.CASCADE, related_name="guideline_links")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["guideline", "position"]
        constraints = [
            models.UniqueConstraint(fields=["guideline", "shot_type"], name="unique_guideline_shot_type"),
        ]


class GuidelineSubject(UUIDModel):
    guideline = models.ForeignKey(ShootingGuidelines, on_delete=models.CASCADE, related_name="subject_links")
    subject = models.ForeignKey("subjects.Subject", on_delete=models.CASCADE, related_name="guideline_links")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["guideline", "position"]
        constraints = [
            models.UniqueConstraint(fields=["guideline", "subject"], name="unique_guideline_subject"),
        ]


class GuidelinePosePreset(UUIDModel):
    guideline = models.ForeignKey(ShootingGuidelines, on_delete=models.CASCADE, related_name="pose_preset_links")
    pose_preset = models.ForeignKey(PosePreset, on_delete=models.CASCADE, related_name="guideline_links")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["guideline", "position"]
        constraints = [
            models.UniqueConstraint(fields=["guideline", "pose_preset"], name="unique_guideline_pose_preset"),
        ]


class ShotTypeRule(UUIDModel):
    """One shot type of one rule group ``(rule_kind, rule_value)`` of a guideline. The API shows and
    takes the groups (GuidelinesShotTypeRuleGroup); ``group`` and ``position`` keep their order."""

    guideline = models.ForeignKey(ShootingGuidelines, on_delete=models.CASCADE, related_name="shot_type_rules")
    rule_kind = models.CharField(max_length=20, choices=ShotTypeRuleKind.choices)
    rule_value = models.CharField(max_length=RULE_VALUE_MAX_LENGTH)
    shot_type = models.ForeignKey(ShotType, on_delete=models.CASCADE, related_name="guideline_rules")
    group = models.PositiveIntegerField()
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["guideline", "group", "position"]
        verbose_name = "shot type rule"
        constraints = [
            models.UniqueConstraint(
                fields=["guideline", "rule_kind", "rule_value", "shot_type"], name="unique_shot_type_rule"
            ),
            models.CheckConstraint(condition=_choices_check("rule_kind", ShotTypeRuleKind), name="shot_type_rule_kind"),
            models.CheckConstraint(condition=~Q(rule_value=""), name="shot_type_rule_value_not_empty"),
        ]

    def __str__(self):
        return f"{self.rule_kind}={self.rule_value}: {self.shot_type_id}"
