"""Serializer fields that take JSON types at their word.

DRF's fields coerce: a CharField turns 42 into "42", a UUIDField takes an integer, a BooleanField
takes "yes". The published APIs type their bodies, so a value of the wrong JSON type is refused.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# A UUID as the APIs write one: 8-4-4-4-12 hex digits, either case.
UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class StrictCharField(serializers.CharField):
    """A JSON string, and only a string."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "anyOf": [
            {"type": "object"},
            {"type": "array", "items": {}},
            {"type": "string"},
            {"type": "number"},
            {"type": "boolean"},
        ]
    }
)
class PresentJSONField(serializers.JSONField):
    """Any JSON value but null."""


class StrictEmailField(serializers.EmailField):
    """An email address given as a JSON string."""

    default_error_messages = {"invalid": "Enter a valid email address."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A whole number given as a JSON number or a numeral (never a boolean)."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.UUID)
class StrictUUIDField(serializers.UUIDField):
    """A UUID given as a JSON string (surrounding blanks ignored)."""

    default_error_messages = {"invalid": "Must be a valid UUID."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data.strip())


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false, and nothing else."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data
