"""OpenAPI schemas of the item payloads (Annex: Common Types), derived from ``serializers``:
``IMAGE`` (``image_payload``), ``IMAGE_INFO`` (``image_info_payload``), ``SAMPLE``
(``sample_payload``), ``IMAGE_THUMBNAIL`` (``thumbnail_payload``) and ``ITEM_RESULT`` (one entry
of a per-id answer, ``services.ItemResult.as_dict``)."""

from apps.core.api.schemas import (
    BOOLEAN,
    DATE_TIME,
    INTEGER,
    MILLIS,
    NUMBER,
    STRING,
    STRINGS,
    UUID,
    array,
    enum,
    obj,
)

from ..models import Item

UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
MTYPE = enum(Item.MediaKind.values)
MEDIA_TYPE = enum(Item.ModelMediaType.values)
APPROVAL_STATUS = enum(Item.ApprovalStatus.values)
# The getFile URL of the item's file; empty while it has none (still generating).
FILE_URL = {"type": "string", "description": "The URL of the item's file ('' while it has none)."}
FOLDER_ID = {
    "type": "string",
    "pattern": f"^(p-)?{UUID_PATTERN}$",
    "description": "The folder holding the item: 'p-' and a UUID for a public folder, a UUID otherwise.",
}

_OWNER = {"userID": UUID, "batchID": UUID}  # only when the item has an owner / a batch
_COUNTERS = {"viewCount": INTEGER, "likeCount": INTEGER, "dislikeCount": INTEGER}
_COMPLETED = {"completedDate": MILLIS, "completedTimestamp": DATE_TIME}  # once the item is completed
_VIEWER_REQUIRED = {"tags": STRINGS, "isPublic": BOOLEAN, "isPubliclyVisible": BOOLEAN}
_VIEWER_OPTIONAL = {
    "isLiked": BOOLEAN,  # signed-in viewers
    "isDisliked": BOOLEAN,
    "publicApprovalStatus": APPROVAL_STATUS,  # the owner and admins
    "folderID": FOLDER_ID,  # items in a folder
}

IMAGE_THUMBNAIL = obj({"imageID": UUID, "url": FILE_URL})

IMAGE = obj(
    {"id": UUID, "url": FILE_URL, **_COUNTERS, "mtype": MTYPE, "mediaType": MEDIA_TYPE, **_VIEWER_REQUIRED},
    {
        **_OWNER,
        **_COMPLETED,
        **_VIEWER_OPTIONAL,
        "folderAddedDate": MILLIS,
        "folderAddedTimestamp": DATE_TIME,
    },
    description="Image",
)

IMAGE_INFO = obj(
    {
        "id": UUID,
        "url": FILE_URL,
        **_COUNTERS,
        "prompt": STRING,
        "generatorVersion": STRING,
        "modelName": STRING,
        "modelID": STRING,
        "steps": INTEGER,
        "seed": INTEGER,
        "subseed": INTEGER,
        "subseed_strength": NUMBER,
        "lora": STRINGS,
        "lora_strength": array(NUMBER),
        "sampler": STRING,
        "cfgscale": NUMBER,
        "restoreFaces": BOOLEAN,
        "height": INTEGER,
        "width": INTEGER,
        "mtype": MTYPE,
        **_VIEWER_REQUIRED,
    },
    {
        **_OWNER,
        "username": STRING,  # with userID
        "profilePicture": STRING,  # with userID: a data URI, '' without a picture
        **_COMPLETED,
        "negprompt": STRING,
        # Items of the workflows system (generatorVersion 2).
        "workflowTemplateName": STRING,
        "workflowRunParameters": array(obj({"name": STRING, "value": STRING})),
        **_VIEWER_OPTIONAL,
    },
    description="ImageInfo",
)

SAMPLE = obj(
    {"id": UUID, "url": FILE_URL, "mtype": MTYPE, "mediaType": MEDIA_TYPE, "isPublic": BOOLEAN},
    _COMPLETED,
    description="Image (reduced: no viewer-specific fields)",
)

ITEM_RESULT = obj({"id": UUID, "success": BOOLEAN}, {"message": STRING})

IMAGES = array(IMAGE)
IMAGE_INFOS = array(IMAGE_INFO)
SAMPLES = array(SAMPLE)
ITEM_RESULTS = array(ITEM_RESULT)
