"""Request and response bodies of the Sartiq style endpoints, field for field as the spec has them
(StyleCreate, StyleUpdate, StylePublic, StyleAdmin, AssignOwnerRequest, Body_update_style_lora_trigger)."""

import math

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.sartiq.fields import MediaInputField, MediaObjectField, MediaResourcePublicSerializer, MediaUrlField
from apps.core.sartiq.lora import LORA_TRIGGER_MAX_LENGTH
from apps.core.sartiq.media import media_resource_public, media_url

from .. import selectors
from ..models import (
    DEFAULT_LORA_WEIGHT,
    MAX_DATA_IMAGES,
    MAX_LORA_WEIGHT,
    MAX_TAGS,
    MIN_LORA_WEIGHT,
    NAME_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    StyleCategory,
)

LOCAL_MODEL_PATH_MAX_LENGTH = 1000


class FiniteFloatField(serializers.FloatField):
    """A number that is neither NaN nor infinite (``"nan"`` would otherwise pass every bound)."""

    default_error_messages = {"finite": "Input should be a finite number."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("finite")
        return value


def _text(max_length: int, **kwargs):
    return serializers.CharField(
        max_length=max_length, allow_null=True, allow_blank=True, required=False, trim_whitespace=False, **kwargs
    )


def _tags(**kwargs):
    return serializers.ListField(
        child=serializers.CharField(max_length=TAG_MAX_LENGTH),
        max_length=MAX_TAGS,
        allow_null=True,
        required=False,
        help_text="List of tags for the style",
        **kwargs,
    )


def _lora_weight(**kwargs):
    return FiniteFloatField(
        min_value=MIN_LORA_WEIGHT,
        max_value=MAX_LORA_WEIGHT,
        help_text=f"From {MIN_LORA_WEIGHT} to {MAX_LORA_WEIGHT}.",
        **kwargs,
    )


def _data_images(**kwargs):
    return serializers.ListField(
        child=MediaInputField(allow_null=False, required=True),
        max_length=MAX_DATA_IMAGES,
        allow_null=True,
        required=False,
        help_text="List of image URLs, base64 strings, or MediaInput objects",
        **kwargs,
    )


class StyleCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    description = _text(TEXT_MAX_LENGTH, default=None)
    brand = _text(TEXT_MAX_LENGTH, default=None)
    style_category = serializers.ChoiceField(choices=StyleCategory.choices, default=StyleCategory.OTHER)
    local_model_path = _text(LOCAL_MODEL_PATH_MAX_LENGTH, default=None)
    lora_trigger = _text(LORA_TRIGGER_MAX_LENGTH, default=None)
    default_lora_weight = _lora_weight(default=DEFAULT_LORA_WEIGHT)
    prompt_keywords = _text(TEXT_MAX_LENGTH, default=None)
    public = serializers.BooleanField(default=False)
    cover_image = MediaInputField(
        required=True, allow_null=False, help_text="URL or base64 string for cover image, or MediaInput object"
    )
    data_images = _data_images(default=None)
    tags = _tags(default=None)
    organization_id = serializers.UUIDField(
        allow_null=True, required=False, default=None, help_text="Organization this style belongs to"
    )


class StyleUpdateSerializer(serializers.Serializer):
    """Every field optional (PUT and PATCH are partial). ``null`` clears the description, brand,
    prompt keywords, LoRA trigger and cover image; for the other fields it changes nothing.
    ``organization_id`` transfers the style (``null``: out of its organization)."""

    name = serializers.CharField(max_length=NAME_MAX_LENGTH, allow_null=True, required=False)
    description = _text(TEXT_MAX_LENGTH)
    brand = _text(TEXT_MAX_LENGTH)
    style_category = serializers.ChoiceField(choices=StyleCategory.choices, allow_null=True, required=False)
    lora_trigger = _text(LORA_TRIGGER_MAX_LENGTH)
    default_lora_weight = _lora_weight(allow_null=True, required=False)
    prompt_keywords = _text(TEXT_MAX_LENGTH)
    public = serializers.BooleanField(allow_null=True, required=False)
    enabled = serializers.BooleanField(allow_null=True, required=False)
    archived = serializers.BooleanField(allow_null=True, required=False)
    cover_image = MediaInputField(help_text="URL or base64 string for cover image, or MediaInput object")
    data_images = _data_images()
    tags = _tags()
    organization_id = serializers.UUIDField(
        allow_null=True, required=False, help_text="Organization to transfer this style to"
    )


class StylePublicSerializer(serializers.Serializer):
    """StylePublic."""

    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    brand = serializers.CharField(allow_null=True)
    style_category = serializers.ChoiceField(choices=StyleCategory.choices)
    local_model_path = serializers.CharField(allow_null=True)
    lora_trigger = serializers.CharField(allow_null=True)
    default_lora_weight = serializers.FloatField()
    prompt_keywords = serializers.CharField(allow_null=True)
    public = serializers.BooleanField()
    enabled = serializers.BooleanField()
    archived = serializers.BooleanField()
    demo = serializers.BooleanField()
    cover_image_url = MediaUrlField(source="cover_image")
    data_image_urls = serializers.SerializerMethodField()
    tags = serializers.ListField(child=serializers.CharField())
    deleted_at = serializers.DateTimeField(allow_null=True)
    lora_status = serializers.CharField()
    current_training_id = serializers.UUIDField(allow_null=True)
    training_progress = serializers.FloatField()
    training_error = serializers.CharField(allow_null=True)
    owner_id = serializers.UUIDField()
    organization_id = serializers.UUIDField(allow_null=True)
    cover_image_media = MediaObjectField(source="cover_image")
    data_images_media = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_data_image_urls(self, style) -> list[str]:
        return [media_url(media) for media in selectors.data_images(style)]

    @extend_schema_field(MediaResourcePublicSerializer(many=True, allow_null=True))
    def get_data_images_media(self, style) -> list[dict]:
        return [media_resource_public(media) for media in selectors.data_images(style)]


class StyleAdminSerializer(StylePublicSerializer):
    """StyleAdmin: the StylePublic fields, for administrators (soft-deleted styles included)."""


class AssignOwnerRequestSerializer(serializers.Serializer):
    """AssignOwnerRequest (``id``, ``created_at`` and ``updated_at`` are accepted and not used)."""

    id = serializers.UUIDField(required=False)
    created_at = serializers.DateTimeField(required=False)
    updated_at = serializers.DateTimeField(required=False)
    new_owner_id = serializers.UUIDField()


class LoraTriggerSerializer(serializers.Serializer):
    """Body_update_style_lora_trigger: no ``lora_trigger`` (or null, or empty) clears it."""

    lora_trigger = serializers.CharField(
        max_length=LORA_TRIGGER_MAX_LENGTH, allow_null=True, allow_blank=True, required=False, default=None
    )


class StylesPublicSerializer(serializers.Serializer):
    """StylesPublic (documentation of the list body)."""

    data = StylePublicSerializer(many=True)
    count = serializers.IntegerField()


class StylesAdminSerializer(serializers.Serializer):
    """StylesAdmin (documentation of the admin list body)."""

    data = StyleAdminSerializer(many=True)
    count = serializers.IntegerField()
