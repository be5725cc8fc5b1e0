"""OpenAPI schema of the Tag object as ``getTagsList`` writes it (``{"name", "usageCount"}``)."""

from apps.core.api.schemas import INTEGER, STRING, array, obj

TAG = obj({"name": STRING, "usageCount": INTEGER}, description="Tag")
TAG_LIST = array(TAG)
