"""Serializer fields for the image fields of Sartiq resources.

- ``MediaInputField`` (requests): a string (URL, base64, data: URI, upload URL) or, unless
  ``string_only``, a MediaInput object; its shape is checked here, the bytes later by the service
  through ``resolve_media_input`` (which needs the user and the organization).
- ``MediaUrlField`` / ``MediaObjectField`` (responses): the ``*_url`` string and the
  MediaResourcePublic object of a MediaResource attribute.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .media import MediaInputSerializer, media_resource_public, media_url


class MediaResourcePublicSerializer(serializers.Serializer):
    """MediaResourcePublic (documentation of the object ``media_resource_public`` builds)."""

    id = serializers.UUIDField()
    url = serializers.CharField()
    resource_type = serializers.ChoiceField(choices=["image", "video"])
    content_hash = serializers.CharField()
    extension = serializers.CharField()
    file_size = serializers.IntegerField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    aspect_ratio = serializers.FloatField(allow_null=True)
    orientation = serializers.CharField(allow_null=True)
    dominant_color = serializers.CharField(allow_null=True)
    color_profile = serializers.CharField(allow_null=True)
    duration = serializers.FloatField(allow_null=True)
    alt_text = serializers.CharField(allow_null=True)
    caption = serializers.CharField(allow_null=True)
    protected = serializers.BooleanField()
    created_at = serializers.DateTimeField()


MEDIA_INPUT_SCHEMA = {
    "oneOf": [
        {"type": "string", "description": "http(s) URL, base64, data: URI, or an upload's file_url"},
        {
            "type": "object",
            "title": "MediaInput",
            "properties": {
                "url": {"type": "string", "nullable": True},
                "media_resource_id": {"type": "string", "format": "uuid", "nullable": True},
                "alt_text": {"type": "string", "nullable": True},
                "caption": {"type": "string", "nullable": True},
                "protected": {"type": "boolean", "default": False},
                "width": {"type": "integer", "nullable": True},
                "height": {"type": "integer", "nullable": True},
                "duration": {"type": "number", "nullable": True},
                "dominant_color": {"type": "string", "nullable": True},
                "color_profile": {"type": "string", "nullable": True},
            },
        },
    ],
    "nullable": True,
}


@extend_schema_field(MEDIA_INPUT_SCHEMA)
class MediaInputField(serializers.Field):
    """An image given as a string or a MediaInput object (the raw value, checked for shape)."""

    default_error_messages = {
        "invalid": "Input should be a valid string or a MediaInput object.",
        "string_only": "Input should be a valid string (an image URL, base64 or an upload URL).",
    }

    def __init__(self, *, string_only: bool = False, **kwargs):
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("required", False)
        self.string_only = string_only
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            return data
        if isinstance(data, dict) and not self.string_only:
            form = MediaInputSerializer(data=data)
            if not form.is_valid():
                raise serializers.ValidationError(form.errors)
            return data
        if self.string_only:
            raise serializers.ValidationError(self.error_messages["string_only"], code="string_type")
        self.fail("invalid")

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "string", "nullable": True})
class MediaUrlField(serializers.Field):
    """The URL of a MediaResource attribute (``source``), null without one."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return media_url(value) if value is not None else None

    def get_attribute(self, instance):
        try:
            return super().get_attribute(instance)
        except AttributeError:
            return None


@extend_schema_field(MediaResourcePublicSerializer(allow_null=True))
class MediaObjectField(MediaUrlField):
    """The MediaResourcePublic object of a MediaResource attribute (``source``), null without one."""

    def to_representation(self, value):
        return media_resource_public(value)
