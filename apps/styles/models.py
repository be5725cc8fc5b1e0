"""Styles of the Sartiq catalogue: a look (category, brand, prompt keywords, images) and its LoRA."""

from django.db import models
from django.db.models import Q

from apps.core.models import MediaResource, UUIDModel
from apps.core.sartiq.lora import LoraModel, LoraStatus
from apps.core.sartiq.ownership import OwnedResource

NAME_MAX_LENGTH = 255
TEXT_MAX_LENGTH = 1000
SLUG_MAX_LENGTH = 300
MIN_LORA_WEIGHT = 0.0
MAX_LORA_WEIGHT = 2.0
DEFAULT_LORA_WEIGHT = 0.7
MAX_TAGS = 50
TAG_MAX_LENGTH = 100
MAX_DATA_IMAGES = 50


class StyleCategory(models.TextChoices):
    """The kinds of look a fashion shoot asks for (the spec names VINTAGE and the default OTHER)."""

    CASUAL = "CASUAL", "Casual"
    FORMAL = "FORMAL", "Formal"
    BUSINESS = "BUSINESS", "Business"
    STREETWEAR = "STREETWEAR", "Streetwear"
    SPORTSWEAR = "SPORTSWEAR", "Sportswear"
    VINTAGE = "VINTAGE", "Vintage"
    BOHEMIAN = "BOHEMIAN", "Bohemian"
    MINIMALIST = "MINIMALIST", "Minimalist"
    LUXURY = "LUXURY", "Luxury"
    AVANT_GARDE = "AVANT_GARDE", "Avant-garde"
    EVENING = "EVENING", "Evening"
    BRIDAL = "BRIDAL", "Bridal"
    SWIMWEAR = "SWIMWEAR", "Swimwear"
    LINGERIE = "LINGERIE", "Lingerie"
    OUTDOOR = "OUTDOOR", "Outdoor"
    WORKWEAR = "WORKWEAR", "Workwear"
    CHILDRENSWEAR = "CHILDRENSWEAR", "Childrenswear"
    EDITORIAL = "EDITORIAL", "Editorial"
    OTHER = "OTHER", "Other"


class Style(OwnedResource, LoraModel):
    """A style. Its slug is made from the name once, when the style is created, and never changes
    (not on rename, not on delete and restore), so links that use it keep working."""

    name = models.CharField(max_length=NAME_MAX_LENGTH)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, editable=False)
    description = models.CharField(max_length=TEXT_MAX_LENGTH, null=True, blank=True)
    brand = models.CharField(max_length=TEXT_MAX_LENGTH, null=True, blank=True)
    style_category = models.CharField(max_length=20, choices=StyleCategory.choices, default=StyleCategory.OTHER)
    default_lora_weight = models.FloatField(
        default=DEFAULT_LORA_WEIGHT, help_text=f"From {MIN_LORA_WEIGHT} to {MAX_LORA_WEIGHT}."
    )
    prompt_keywords = models.CharField(max_length=TEXT_MAX_LENGTH, null=True, blank=True)
    public = models.BooleanField(default=False, help_text="Visible to every user.")
    enabled = models.BooleanField(default=True)
    archived = models.BooleanField(default=False)
    demo = models.BooleanField(default=False, help_text="Shown as a demonstration style.")
    tags = models.JSONField(default=list, blank=True)
    cover_image = models.ForeignKey(
        MediaResource, on_delete=models.SET_NULL, null=True, blank=True, related_name="styles_as_cover"
    )
    current_training_id = models.UUIDField(null=True, blank=True)
    training_progress = models.FloatField(default=0.0, help_text="Percent, from 0 to 100.")
    training_error = models.TextField(null=True, blank=True)

    class Meta(OwnedResource.Meta):
        indexes = [
            models.Index(fields=["owner", "organization"], name="style_owner_org"),
            models.Index(fields=["organization", "public"], name="style_org_public"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_lora_weight__gte=MIN_LORA_WEIGHT) & Q(default_lora_weight__lte=MAX_LORA_WEIGHT),
                name="style_lora_weight_bounded",
            ),
            models.CheckConstraint(
                condition=Q(training_progress__gte=0) & Q(training_progress__lte=100),
                name="style_training_progress_percent",
            ),
            models.CheckConstraint(condition=Q(style_category__in=StyleCategory.values), name="style_category_known"),
            models.CheckConstraint(condition=Q(lora_status__in=LoraStatus.values), name="style_lora_status_known"),
        ]

    def __str__(self):
        return self.name


class StyleDataImage(UUIDModel):
    """One of a style's data images, in order."""

    style = models.ForeignKey(Style, on_delete=models.CASCADE, related_name="data_image_links")
    media = models.ForeignKey(MediaResource, on_delete=models.CASCADE, related_name="style_data_image_links")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["style", "position"]
        verbose_name = "style data image"
        constraints = [
            models.UniqueConstraint(fields=["style", "position"], name="unique_style_data_image_position"),
        ]

    def __str__(self):
        return f"{self.style_id} #{self.position}"
