"""OpenAPI schemas of the Folder object (``serializers.folder_payload``), one per kind of folder:
the ids of private folders are UUIDs, those of public folders ``p-<uuid>``."""

from apps.core.api.schemas import BOOLEAN, DATE_TIME, INTEGER, STRING, STRINGS, UUID, array, obj
from apps.items.api.schemas import IMAGE_THUMBNAIL

from .serializers import PRIVATE_ID_SCHEMA, PUBLIC_ID_SCHEMA


def folder_schema(public: bool) -> dict:
    """The Folder object as ``folder_payload`` writes it (``description`` only when not empty)."""
    return obj(
        {
            "id": PUBLIC_ID_SCHEMA if public else PRIVATE_ID_SCHEMA,
            "name": STRING,
            "userID": UUID,
            "isPublic": BOOLEAN,
            "imageCount": INTEGER,
            "sampleImages": array(IMAGE_THUMBNAIL),
            "thumbnails": array(IMAGE_THUMBNAIL),
            "createdDate": DATE_TIME,
            "updatedDate": DATE_TIME,
            "tags": STRINGS,
        },
        {"description": STRING},
        description="Public Folder" if public else "Private Folder",
    )


SELF_FOLDER = folder_schema(False)
PUBLIC_FOLDER = folder_schema(True)
SELF_FOLDERS = array(SELF_FOLDER)
PUBLIC_FOLDERS = array(PUBLIC_FOLDER)
