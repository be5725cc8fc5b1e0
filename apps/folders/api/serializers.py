"""AIMG shapes and request bodies of the folder endpoints (Annex: Common Types, Folder)."""

import uuid
from datetime import UTC

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.dialects.fields import UUID_PATTERN, StrictCharField
from apps.items.api.serializers import thumbnail_payload

from ..models import MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH
from ..selectors import ROOT, FolderPreview

MAX_IDS = 1000


def iso(value) -> str:
    """A timestamp as JavaScript's ``toISOString`` writes it."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def folder_payload(folder, *, preview: FolderPreview, request) -> dict:
    """The Folder object. ``imageCount``, ``sampleImages`` and ``thumbnails`` hold what the viewer
    sees (``image_count`` is annotated by ``selectors.with_image_count``); ``description`` is left
    out when empty."""
    data = {"id": folder.wire_id, "name": folder.name}
    if folder.description:
        data["description"] = folder.description
    data["userID"] = str(folder.owner_id)
    data["isPublic"] = folder.is_public
    data["imageCount"] = folder.image_count
    data["sampleImages"] = [thumbnail_payload(item, request=request) for item in preview.samples.get(folder.pk, [])]
    data["thumbnails"] = [thumbnail_payload(item, request=request) for item in preview.thumbnails.get(folder.pk, [])]
    data["createdDate"] = iso(folder.created_at)
    data["updatedDate"] = iso(folder.updated_at)
    data["tags"] = list(folder.tags or [])
    return data


# --- schemas of the inputs ------------------------------------------------------------------------------
# Each documents exactly what the field accepts, so a request the schema allows is never refused as
# malformed (only for what the state decides: an unknown folder, a full folder, …).

NO_NUL = "^[^\\u0000]*$"
SOME_TEXT = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"  # not only blanks, no NUL
PRIVATE_ID_SCHEMA = {"type": "string", "format": "uuid", "description": "A private folder id (a UUID)."}
PUBLIC_ID_SCHEMA = {
    "type": "string",
    "pattern": f"^p-{UUID_PATTERN}$",
    "description": "A public folder id: 'p-' and a UUID.",
}
ANY_ID_SCHEMA = {
    "type": "string",
    "pattern": f"^(p-)?{UUID_PATTERN}$",
    "description": "A folder id: a UUID for a private folder, 'p-' and a UUID for a public one.",
}
MOVE_ID_SCHEMA = {
    "type": "string",
    "nullable": True,
    "pattern": f"^(root|(p-)?{UUID_PATTERN})$",
    "description": "A folder id ('p-<uuid>' for a public folder), or null (or 'root') for the root folder.",
}


def folder_id_schema(public: bool | None) -> dict:
    return {True: PUBLIC_ID_SCHEMA, False: PRIVATE_ID_SCHEMA, None: ANY_ID_SCHEMA}[public]


def id_list_schema(item: dict, *, description: str) -> dict:
    """A comma-separated query list of ids (an array serialized ``style=form, explode=false``)."""
    return {"type": "array", "items": item, "maxItems": MAX_IDS, "description": description}


# --- request fields ------------------------------------------------------------------------------------


class _FolderRefField(serializers.Field):
    """A wire folder id parsed into a ``FolderRef`` (``public`` says which kind the endpoint takes)."""

    public: bool | None = None

    def to_internal_value(self, data):
        from apps.core.errors import InvalidInput

        from ..selectors import parse_folder_id

        name = self.field_name or "folderID"
        try:
            return parse_folder_id(data, public=self.public, field=name)
        except InvalidInput as exc:
            raise serializers.ValidationError(exc.errors[(name,)]) from None

    def to_representation(self, value):
        return str(value)


@extend_schema_field(PRIVATE_ID_SCHEMA)
class PrivateFolderIdField(_FolderRefField):
    public = False


@extend_schema_field(PUBLIC_ID_SCHEMA)
class PublicFolderIdField(_FolderRefField):
    public = True


@extend_schema_field(ANY_ID_SCHEMA)
class AnyFolderIdField(_FolderRefField):
    public = None


@extend_schema_field(MOVE_ID_SCHEMA)
class MoveFolderIdField(_FolderRefField):
    """A folder id of either kind, or null / ``root`` (None: the root folder). Required, nullable."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and data.strip() == ROOT:
            return None
        return super().to_internal_value(data)


@extend_schema_field(
    {"type": "array", "items": {"type": "string", "format": "uuid"}, "minItems": 1, "maxItems": MAX_IDS}
)
class ItemIdsField(serializers.Field):
    """A JSON array of 1 to ``MAX_IDS`` item ids (UUID strings); repeats are answered once."""

    allow_empty = False
    default_error_messages = {
        "not_a_list": "Give the item ids as an array of strings.",
        "empty": "Give at least one item id.",
        "too_many": f"Give at most {MAX_IDS} item ids per request.",
        "not_a_string": "Each item id must be a string (a UUID).",
        "invalid": "'{value}' is not a valid item id (a UUID).",
    }

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list")
        if not data and not self.allow_empty:
            self.fail("empty")
        if len(data) > MAX_IDS:
            self.fail("too_many")
        ids = []
        for value in data:
            if not isinstance(value, str):
                self.fail("not_a_string")
            try:
                ids.append(uuid.UUID(value.strip()))
            except ValueError:
                self.fail("invalid", value=value[:64])
        return list(dict.fromkeys(ids))

    def to_representation(self, value):
        return [str(pk) for pk in value]


@extend_schema_field({"type": "array", "items": {"type": "string", "format": "uuid"}, "maxItems": MAX_IDS})
class ItemIdsOrNoneField(ItemIdsField):
    """Item ids, possibly none (``[]`` clears the thumbnails)."""

    allow_empty = True


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH, "pattern": SOME_TEXT})
class FolderNameField(StrictCharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=MAX_NAME_LENGTH, **kwargs)


@extend_schema_field({"type": "string", "maxLength": MAX_DESCRIPTION_LENGTH, "pattern": NO_NUL})
class FolderDescriptionField(StrictCharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=MAX_DESCRIPTION_LENGTH, allow_blank=True, **kwargs)


# --- request bodies ------------------------------------------------------------------------------------


class CreateFolderBody(serializers.Serializer):
    name = FolderNameField()
    description = FolderDescriptionField(required=False)


class FolderPropertiesBase(serializers.Serializer):
    """setSelfFolderProperties / setPublicFolderProperties: at least one property besides the id."""

    def validate(self, attrs):
        if "folderName" not in attrs and "folderDescription" not in attrs:
            raise serializers.ValidationError({"folderName": ["Give folderName and/or folderDescription."]})
        return attrs


class _OneProperty(OpenApiSerializerExtension):
    """Documents "at least one of the Folder properties must be provided" (``anyOf``)."""

    target_class = "apps.folders.api.serializers.FolderPropertiesBase"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["anyOf"] = [{"required": ["folderName"]}, {"required": ["folderDescription"]}]
        return schema


class FolderBodies:
    """The bodies of the endpoints of one kind of folder (documented under the kind's own names)."""

    def __init__(self, kind: str, public: bool):
        id_field = PublicFolderIdField if public else PrivateFolderIdField
        self.properties = type(
            f"{kind}FolderPropertiesBody",
            (FolderPropertiesBase,),
            {
                "__module__": __name__,
                "folderID": id_field(),
                "folderName": FolderNameField(required=False),
                "folderDescription": FolderDescriptionField(required=False),
            },
        )
        self.items = type(
            f"{kind}FolderItemsBody",
            (serializers.Serializer,),
            {"__module__": __name__, "folderID": id_field(), "imageIDs": ItemIdsField()},
        )
        self.thumbnails = type(
            f"{kind}FolderThumbnailsBody",
            (serializers.Serializer,),
            {"__module__": __name__, "folderID": id_field(), "imageIDs": ItemIdsOrNoneField()},
        )
        self.folder_query = type(
            f"{kind}FolderIdQuery", (serializers.Serializer,), {"__module__": __name__, "folderID": id_field()}
        )


class MoveItemsBody(serializers.Serializer):
    sourceFolderID = MoveFolderIdField()  # noqa: N815
    destinationFolderID = MoveFolderIdField()  # noqa: N815
    imageIDs = ItemIdsField()  # noqa: N815


class FolderListQuery(serializers.Serializer):
    folderIDs = serializers.CharField(required=False, allow_blank=True, max_length=MAX_IDS * 40)  # noqa: N815


class PublicFolderListQuery(FolderListQuery):
    userID = serializers.UUIDField(required=False)  # noqa: N815
