"""Request and response bodies of the guidelines endpoints, field by field as the Sartiq spec has them
(ShotTypeCreate / ShotTypeUpdate / ShotTypePublic, BackgroundPreset*, ResolutionPreset*)."""

from rest_framework import serializers

from apps.core.sartiq.fields import MediaInputField, MediaObjectField, MediaUrlField
from apps.core.sartiq.media import media_url

from ..models import (
    MAX_RESOLUTION_SIDE,
    NAME_MAX_LENGTH,
    BackgroundFixStrategy,
    BackgroundPreset,
    BackgroundPresetFraming,
    DefaultShotType,
    Framing,
    ResolutionPreset,
    ShotType,
    ViewAngle,
)


class PartialUpdateSerializer(serializers.Serializer):
    """Every field optional. ``null`` for a field that cannot be null means "no change"
    (``not_nullable``); for the others it clears the value."""

    not_nullable: tuple = ()

    def validate(self, attrs):
        return {name: value for name, value in attrs.items() if not (value is None and name in self.not_nullable)}


def _text(**kwargs):
    return serializers.CharField(required=False, allow_null=True, allow_blank=True, trim_whitespace=False, **kwargs)


def _uuid(**kwargs):
    return serializers.UUIDField(required=False, allow_null=True, default=None, **kwargs)


# --- shot types ------------------------------------------------------------------------------------


class ShotTypeCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    view_angle = serializers.ChoiceField(choices=ViewAngle.choices)
    framing = serializers.ChoiceField(choices=Framing.choices)
    shot_type_ref_image_url = MediaInputField(string_only=True)
    shot_type_prompt_instruction = _text()
    file_naming_convention = _text()
    reference_image_url = MediaInputField()
    prompt = _text()
    prompt_builder_section = _text()
    core_focus = serializers.BooleanField(required=False, default=False)
    default_shot_type = serializers.ChoiceField(choices=DefaultShotType.choices, required=False, allow_null=True)
    margins = _text()
    owner_id = _uuid()
    public = serializers.BooleanField(required=False, default=True)
    organization_id = _uuid()


class ShotTypeUpdateSerializer(PartialUpdateSerializer):
    not_nullable = ("name", "view_angle", "framing", "core_focus", "public", "owner_id")

    name = serializers.CharField(max_length=NAME_MAX_LENGTH, required=False, allow_null=True)
    view_angle = serializers.ChoiceField(choices=ViewAngle.choices, required=False, allow_null=True)
    framing = serializers.ChoiceField(choices=Framing.choices, required=False, allow_null=True)
    shot_type_ref_image_url = MediaInputField(string_only=True)
    shot_type_prompt_instruction = _text()
    file_naming_convention = _text()
    reference_image_url = MediaInputField()
    prompt = _text()
    prompt_builder_section = _text()
    core_focus = serializers.BooleanField(required=False, allow_null=True)
    default_shot_type = serializers.ChoiceField(choices=DefaultShotType.choices, required=False, allow_null=True)
    margins = _text()
    owner_id = serializers.UUIDField(required=False, allow_null=True)
    public = serializers.BooleanField(required=False, allow_null=True)
    organization_id = serializers.UUIDField(required=False, allow_null=True)


class ShotTypePublicSerializer(serializers.ModelSerializer):
    shot_type_ref_image_url = MediaUrlField(source="shot_type_ref_image")
    reference_image_url = MediaUrlField(source="reference_image")
    owner_id = serializers.UUIDField(read_only=True, allow_null=True)
    organization_id = serializers.UUIDField(read_only=True, allow_null=True)
    reference_image = MediaObjectField()

    class Meta:
        model = ShotType
        fields = [
            "name",
            "view_angle",
            "framing",
            "shot_type_ref_image_url",
            "shot_type_prompt_instruction",
            "file_naming_convention",
            "reference_image_url",
            "prompt",
            "prompt_builder_section",
            "core_focus",
            "default_shot_type",
            "margins",
            "owner_id",
            "public",
            "organization_id",
            "id",
            "created_at",
            "updated_at",
            "deleted_at",
            "reference_image",
        ]
        read_only_fields = fields


# --- background presets ---------------------------------------------------------------------------


class BackgroundPresetFramingCreateSerializer(serializers.Serializer):
    framing = serializers.ChoiceField(choices=Framing.choices, required=False, allow_null=True, default=None)
    image = MediaInputField(required=True, allow_null=False)


def _distinct_framings(framings: list) -> list:
    seen, problems = set(), {}
    for index, entry in enumerate(framings):
        framing = entry.get("framing")
        if framing in seen:
            which = f"'{framing}'" if framing else "without a framing (the fallback)"
            problems[index] = {"framing": [f"Only one entry {which} is allowed per preset."]}
        seen.add(framing)
    if problems:
        raise serializers.ValidationError(problems)
    return framings


class BackgroundPresetCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    framings = BackgroundPresetFramingCreateSerializer(many=True, allow_empty=False)
    owner_id = _uuid()
    strategy = serializers.ChoiceField(
        choices=BackgroundFixStrategy.choices, required=False, allow_null=True, default=BackgroundFixStrategy.DEFAULT
    )
    organization_id = _uuid()

    def validate_framings(self, value):
        return _distinct_framings(value)


class BackgroundPresetUpdateSerializer(PartialUpdateSerializer):
    not_nullable = ("name", "framings", "owner_id")

    name = serializers.CharField(max_length=NAME_MAX_LENGTH, required=False, allow_null=True)
    framings = BackgroundPresetFramingCreateSerializer(many=True, allow_empty=False, required=False, allow_null=True)
    owner_id = serializers.UUIDField(required=False, allow_null=True)
    strategy = serializers.ChoiceField(choices=BackgroundFixStrategy.choices, required=False, allow_null=True)
    organization_id = serializers.UUIDField(required=False, allow_null=True)

    def validate_framings(self, value):
        return _distinct_framings(value) if value is not None else value


class BackgroundPresetFramingPublicSerializer(serializers.ModelSerializer):
    image_url = MediaUrlField(source="image")
    image_media = MediaObjectField(source="image")

    class Meta:
        model = BackgroundPresetFraming
        fields = ["id", "created_at", "updated_at", "framing", "image_url", "image_media"]
        read_only_fields = fields


class BackgroundPresetPublicSerializer(serializers.ModelSerializer):
    owner_id = serializers.UUIDField(read_only=True)
    organization_id = serializers.UUIDField(read_only=True, allow_null=True)
    framings = BackgroundPresetFramingPublicSerializer(many=True, read_only=True)
    cover_image_url = serializers.SerializerMethodField()

    class Meta:
        model = BackgroundPreset
        fields = [
            "id",
            "created_at",
            "updated_at",
            "name",
            "owner_id",
            "organization_id",
            "framings",
            "cover_image_url",
            "strategy",
            "deleted_at",
        ]
        read_only_fields = fields

    def get_cover_image_url(self, preset) -> str | None:
        """The image of the first framing that has one."""
        for framing in preset.framings.all():
            if framing.image is not None:
                return media_url(framing.image)
        return None


# --- resolution presets ---------------------------------------------------------------------------


def _side(**kwargs):
    return serializers.IntegerField(min_value=1, max_value=MAX_RESOLUTION_SIDE, **kwargs)


class ResolutionPresetCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    width = _side(help_text="Width in pixels")
    height = _side(help_text="Height in pixels")
    owner_id = _uuid()
    organization_id = _uuid()


class ResolutionPresetUpdateSerializer(PartialUpdateSerializer):
    not_nullable = ("name", "width", "height", "owner_id")

    name = serializers.CharField(max_length=NAME_MAX_LENGTH, required=False, allow_null=True)
    width = _side(required=False, allow_null=True, help_text="Width in pixels")
    height = _side(required=False, allow_null=True, help_text="Height in pixels")
    owner_id = serializers.UUIDField(required=False, allow_null=True)
    organization_id = serializers.UUIDField(required=False, allow_null=True)


class ResolutionPresetPublicSerializer(serializers.ModelSerializer):
    owner_id = serializers.UUIDField(read_only=True)
    organization_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = ResolutionPreset
        fields = [
            "id",
            "created_at",
            "updated_at",
            "name",
            "owner_id",
            "organization_id",
            "width",
            "height",
            "deleted_at",
        ]
        read_only_fields = fields
