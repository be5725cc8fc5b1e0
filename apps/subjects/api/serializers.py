"""Request and response bodies of the Sartiq subject endpoints, field for field as the spec has them
(SubjectCreate, SubjectUpdate, SubjectPublic, SubjectAdmin, SubjectMeasurements*, BaseImageCreate,
BaseImagePublic, BaseImageListResponse, SubjectBaseImagesUploadTaskPublic, BulkAssignSubjectsRequest,
Body_update_subject_lora_trigger, Body_upload_subject_lora)."""

import math
import posixpath

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from apps.core.dialects.fields import StrictCharField, StrictUUIDField
from apps.core.sartiq.fields import MediaInputField, MediaObjectField, MediaResourcePublicSerializer, MediaUrlField
from apps.core.sartiq.lora import LORA_TRIGGER_MAX_LENGTH, LoraStatus
from apps.core.sartiq.media import media_resource_public, media_url

from .. import selectors
from ..models import (
    ETHNICITY_MAX_LENGTH,
    GIRTH_CM,
    HEIGHT_CM,
    MAX_BASE_IMAGES,
    MAX_DATA_IMAGES,
    MAX_PORTFOLIO_IMAGES,
    NAME_MAX_LENGTH,
    PROMPT_MAX_LENGTH,
    SHOE_EU,
    TEXT_MAX_LENGTH,
    BodyType,
    EyeColor,
    Gender,
    HairColor,
    SubjectAgeClass,
    SubjectType,
    TaskStatus,
)

LOCAL_MODEL_PATH_MAX_LENGTH = 1000
MAX_BULK_ASSIGN = 1000


class FiniteFloatField(serializers.FloatField):
    """A number that is neither NaN nor infinite, nor a boolean."""

    default_error_messages = {"finite": "Input should be a finite number."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("finite")
        return value


class ShoeSizeField(FiniteFloatField):
    """An EU shoe size: whole or half sizes."""

    default_error_messages = {"half": "Shoe sizes are whole or half sizes (38, 38.5)."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if (value * 2) != int(value * 2):
            self.fail("half")
        return value


@extend_schema_field({"$ref": "#/components/schemas/MediaInput"})
class MediaInputObjectField(MediaInputField):
    """A MediaInput object (the portfolio takes objects only, as its schema says)."""

    default_error_messages = {"object_only": "Input should be a MediaInput object."}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(self.error_messages["object_only"], code="model_type")
        return super().to_internal_value(data)


def _text(max_length: int, **kwargs):
    return StrictCharField(
        max_length=max_length, allow_null=True, allow_blank=True, required=False, trim_whitespace=False, **kwargs
    )


def _images(max_length: int, *, objects_only: bool = False, **kwargs):
    child = (
        MediaInputObjectField(allow_null=False, required=True)
        if objects_only
        else MediaInputField(allow_null=False, required=True)
    )
    return serializers.ListField(child=child, max_length=max_length, allow_null=True, required=False, **kwargs)


# --- measurements ------------------------------------------------------------------------------------


def _cm(bounds, **kwargs):
    return FiniteFloatField(
        min_value=bounds[0],
        max_value=bounds[1],
        allow_null=True,
        required=False,
        help_text=f"Centimetres, {bounds[0]:g} to {bounds[1]:g}.",
        **kwargs,
    )


class SubjectMeasurementsCreateSerializer(serializers.Serializer):
    """SubjectMeasurementsCreate / SubjectMeasurementsUpdate: every field optional; in an update a
    field left out does not change and null clears it."""

    height_cm = _cm(HEIGHT_CM)
    bust_cm = _cm(GIRTH_CM)
    waist_cm = _cm(GIRTH_CM)
    hips_cm = _cm(GIRTH_CM)
    shoe_eu = ShoeSizeField(
        min_value=SHOE_EU[0],
        max_value=SHOE_EU[1],
        allow_null=True,
        required=False,
        help_text=f"EU size, {SHOE_EU[0]:g} to {SHOE_EU[1]:g}, in half sizes.",
    )
    eye_color = serializers.ChoiceField(choices=EyeColor.choices, allow_null=True, required=False)
    hair_color = serializers.ChoiceField(choices=HairColor.choices, allow_null=True, required=False)


class SubjectMeasurementsPublicSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    height_cm = serializers.FloatField(allow_null=True)
    bust_cm = serializers.FloatField(allow_null=True)
    waist_cm = serializers.FloatField(allow_null=True)
    hips_cm = serializers.FloatField(allow_null=True)
    shoe_eu = serializers.FloatField(allow_null=True)
    eye_color = serializers.ChoiceField(choices=EyeColor.choices, allow_null=True)
    hair_color = serializers.ChoiceField(choices=HairColor.choices, allow_null=True)


# --- base images -----------------------------------------------------------------------------------


class BaseImageCreateSerializer(serializers.Serializer):
    """BaseImageCreate: ``image_url`` is an upload's file URL (or any image input string)."""

    shot_type_id = StrictUUIDField()
    image_url = StrictCharField(trim_whitespace=False)


class BaseImagePublicSerializer(serializers.Serializer):
    """BaseImagePublic of a SubjectBaseImage row."""

    shot_type_id = serializers.UUIDField()
    shot_type_label = serializers.CharField(source="shot_type.name")
    image_url = serializers.SerializerMethodField()

    def get_image_url(self, row) -> str:
        return media_url(row.media)


class BaseImageListResponseSerializer(serializers.Serializer):
    data = BaseImagePublicSerializer(many=True)


# --- subjects ------------------------------------------------------------------------------------


class SubjectCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=NAME_MAX_LENGTH)
    surname = _text(NAME_MAX_LENGTH, default=None)
    description = _text(TEXT_MAX_LENGTH, default=None)
    local_model_path = _text(LOCAL_MODEL_PATH_MAX_LENGTH, default=None)
    lora_trigger = _text(LORA_TRIGGER_MAX_LENGTH, default=None)
    lora_status = serializers.ChoiceField(choices=LoraStatus.choices, default=LoraStatus.NONE)
    cover_image = MediaInputField(
        required=True, allow_null=False, help_text="URL or base64 string for the cover image, or a MediaInput object"
    )
    data_images = _images(MAX_DATA_IMAGES, default=None)
    portrait_image = MediaInputField(help_text="URL or base64 string, or a MediaInput object")
    portfolio_images = _images(MAX_PORTFOLIO_IMAGES, objects_only=True, default=None)
    # An explicit ListSerializer: with ``many=True`` DRF would let ``allow_null`` admit null items too.
    base_images = serializers.ListSerializer(
        child=BaseImageCreateSerializer(), allow_null=True, required=False, default=None, max_length=MAX_BASE_IMAGES
    )
    age_class = serializers.ChoiceField(choices=SubjectAgeClass.choices)
    gender = serializers.ChoiceField(choices=Gender.choices, default=Gender.FEMALE)
    positive_prompt = _text(PROMPT_MAX_LENGTH, default=None)
    negative_prompt = _text(PROMPT_MAX_LENGTH, default=None)
    ethnicity = _text(ETHNICITY_MAX_LENGTH, default=None)
    public = serializers.BooleanField(default=False)
    subject_type = serializers.ChoiceField(choices=SubjectType.choices, default=SubjectType.AI)
    body_type = serializers.ChoiceField(choices=BodyType.choices, allow_null=True, required=False, default=None)
    organization_id = StrictUUIDField(
        allow_null=True, required=False, default=None, help_text="Organization this subject belongs to"
    )
    measurements = SubjectMeasurementsCreateSerializer(allow_null=True, required=False, default=None)


IMAGE_FIELDS = ("cover_image", "data_images", "portrait_image", "portfolio_images", "base_images")


class SubjectMetadataSerializer(SubjectCreateSerializer):
    """The ``metadata.json`` of a ZIP upload that creates a subject: SubjectCreate without images
    (they come from the archive)."""

    cover_image = None
    data_images = None
    portrait_image = None
    portfolio_images = None
    base_images = None

    def to_internal_value(self, data):
        if isinstance(data, dict):
            given = [name for name in IMAGE_FIELDS if name in data]
            if given:
                message = (
                    "Images come from the archive (cover.jpg, portrait.jpg, <shot type>.jpg, portfolio/), "
                    "not from metadata.json."
                )
                raise serializers.ValidationError({name: [message] for name in given})
        return super().to_internal_value(data)


class SubjectUpdateSerializer(serializers.Serializer):
    """Every field optional (PUT and PATCH are partial). ``null`` clears the nullable fields (surname,
    description, ethnicity, prompts, body type, cover and portrait images, measurements); for
    name, age class, gender, public, ready, data and portfolio images it changes nothing.
    ``organization_id`` transfers the subject (``null``: out of its organization)."""

    name = StrictCharField(max_length=NAME_MAX_LENGTH, allow_null=True, required=False)
    surname = _text(NAME_MAX_LENGTH)
    description = _text(TEXT_MAX_LENGTH)
    cover_image = MediaInputField(help_text="URL or base64 string for the cover image, or a MediaInput object")
    data_images = _images(MAX_DATA_IMAGES)
    portrait_image = MediaInputField(help_text="URL or base64 string, or a MediaInput object")
    portfolio_images = _images(MAX_PORTFOLIO_IMAGES, objects_only=True)
    age_class = serializers.ChoiceField(choices=SubjectAgeClass.choices, allow_null=True, required=False)
    gender = serializers.ChoiceField(choices=Gender.choices, allow_null=True, required=False)
    positive_prompt = _text(PROMPT_MAX_LENGTH)
    negative_prompt = _text(PROMPT_MAX_LENGTH)
    ethnicity = _text(ETHNICITY_MAX_LENGTH)
    public = serializers.BooleanField(allow_null=True, required=False)
    ready = serializers.BooleanField(
        allow_null=True,
        required=False,
        help_text="false holds the subject back (not ready); true releases it (422 while it is incomplete).",
    )
    body_type = serializers.ChoiceField(choices=BodyType.choices, allow_null=True, required=False)
    organization_id = StrictUUIDField(
        allow_null=True, required=False, help_text="Organization to transfer this subject to"
    )
    measurements = SubjectMeasurementsCreateSerializer(allow_null=True, required=False)


class SubjectPublicSerializer(serializers.Serializer):
    """SubjectPublic."""

    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    name = serializers.CharField()
    surname = serializers.CharField(allow_null=True)
    slug = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    age_class = serializers.ChoiceField(choices=SubjectAgeClass.choices)
    gender = serializers.ChoiceField(choices=Gender.choices)
    subject_type = serializers.ChoiceField(choices=SubjectType.choices)
    body_type = serializers.ChoiceField(choices=BodyType.choices, allow_null=True)
    positive_prompt = serializers.CharField(allow_null=True)
    negative_prompt = serializers.CharField(allow_null=True)
    ethnicity = serializers.CharField(allow_null=True)
    public = serializers.BooleanField()
    enabled = serializers.BooleanField()
    ready = serializers.BooleanField()
    lora_status = serializers.CharField()
    lora_trigger = serializers.CharField(allow_null=True)
    cover_image_url = MediaUrlField(source="cover_image")
    portrait_image_url = MediaUrlField(source="portrait_image")
    data_image_urls = serializers.SerializerMethodField()
    cover_image_media = MediaObjectField(source="cover_image")
    portrait_image_media = MediaObjectField(source="portrait_image")
    data_images_media = serializers.SerializerMethodField()
    portfolio_images_media = serializers.SerializerMethodField()
    base_images = serializers.SerializerMethodField()
    measurements = serializers.SerializerMethodField()
    deleted_at = serializers.DateTimeField(allow_null=True)
    owner_id = serializers.UUIDField()
    organization_id = serializers.UUIDField(allow_null=True)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_data_image_urls(self, subject) -> list[str]:
        return [media_url(media) for media in selectors.data_images(subject)]

    @extend_schema_field(MediaResourcePublicSerializer(many=True, allow_null=True))
    def get_data_images_media(self, subject) -> list[dict]:
        return [media_resource_public(media) for media in selectors.data_images(subject)]

    @extend_schema_field(MediaResourcePublicSerializer(many=True, allow_null=True))
    def get_portfolio_images_media(self, subject) -> list[dict]:
        return [media_resource_public(media) for media in selectors.portfolio_images(subject)]

    @extend_schema_field(BaseImagePublicSerializer(many=True))
    def get_base_images(self, subject) -> list[dict]:
        return BaseImagePublicSerializer(selectors.base_images(subject), many=True).data

    @extend_schema_field(SubjectMeasurementsPublicSerializer(allow_null=True))
    def get_measurements(self, subject) -> dict | None:
        try:
            measurements = subject.measurements
        except subject._meta.get_field("measurements").related_model.DoesNotExist:
            return None
        return SubjectMeasurementsPublicSerializer(measurements).data


class SubjectAdminSerializer(SubjectPublicSerializer):
    """SubjectAdmin: SubjectPublic with ``local_model_path`` and ``lora_filename``."""

    local_model_path = serializers.CharField(allow_null=True)
    lora_filename = serializers.SerializerMethodField(
        help_text="Extract just the filename from local_model_path if it exists."
    )

    def get_lora_filename(self, subject) -> str | None:
        if not subject.local_model_path:
            return None
        return posixpath.basename(subject.local_model_path.replace("\\", "/")) or None


class SubjectsPublicSerializer(serializers.Serializer):
    data = SubjectPublicSerializer(many=True)
    count = serializers.IntegerField()


class SubjectsAdminSerializer(serializers.Serializer):
    data = SubjectAdminSerializer(many=True)
    count = serializers.IntegerField()


# --- administration ------------------------------------------------------------------------------


class BulkAssignSubjectsRequestSerializer(serializers.Serializer):
    """BulkAssignSubjectsRequest (``id``, ``created_at`` and ``updated_at`` are accepted and not used)."""

    id = serializers.UUIDField(required=False)
    created_at = serializers.DateTimeField(required=False)
    updated_at = serializers.DateTimeField(required=False)
    subject_ids = serializers.ListField(child=serializers.UUIDField(), allow_empty=False, max_length=MAX_BULK_ASSIGN)


@extend_schema_serializer(component_name="Body_update_subject_lora_trigger")
class SubjectLoraTriggerSerializer(serializers.Serializer):
    """Body_update_subject_lora_trigger: no ``lora_trigger`` (or null, or empty) clears it."""

    lora_trigger = serializers.CharField(
        max_length=LORA_TRIGGER_MAX_LENGTH, allow_null=True, allow_blank=True, required=False, default=None
    )


class UploadLoraFormSerializer(serializers.Serializer):
    """Body_upload_subject_lora (documentation: the form is read by ``read_lora_upload``)."""

    file = serializers.FileField(help_text=".safetensors, .ckpt, .pt, .pth or .bin; at most LORA_MAX_BYTES")
    lora_trigger = serializers.CharField(max_length=LORA_TRIGGER_MAX_LENGTH)
    entity_type = serializers.ChoiceField(
        choices=["subject"], allow_null=True, required=False, help_text="The kind of object: 'subject' (or nothing)."
    )


class UploadZipFormSerializer(serializers.Serializer):
    """Body_upload_subject_base_images_zip."""

    file = serializers.FileField(help_text="A ZIP archive (see the description for its layout)")


# --- upload tasks -------------------------------------------------------------------------------------


class UploadTaskPublicSerializer(serializers.Serializer):
    """SubjectBaseImagesUploadTaskPublic."""

    id = serializers.UUIDField()
    owner_id = serializers.UUIDField()
    subject_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=TaskStatus.choices)
    progress = serializers.IntegerField()
    total_items = serializers.IntegerField()
    processed_items = serializers.IntegerField()
    images_processed = serializers.IntegerField()
    images_skipped = serializers.IntegerField()
    portfolio_images_processed = serializers.IntegerField()
    error_message = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    result_data = serializers.JSONField(allow_null=True)
