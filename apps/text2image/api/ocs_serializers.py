"""Wire shapes of the OCS text2image and textprocessing APIs, field for field as Nextcloud's
``Task::jsonSerialize`` (key order included: it is the element order of the XML format)."""

from rest_framework import serializers

from ..providers.text import TASK_TYPE_TEXTS
from ..selectors.ocs import text2image_status, user_id_of

MAX_ID_LENGTH = 255


def _timestamp(value) -> int | None:
    return int(value.timestamp()) if value is not None else None


class _Input(serializers.CharField):
    """The task input: any text up to OCS_MAX_INPUT_CHARS (checked by the service, in characters)."""

    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, **kwargs)


class Text2ImageScheduleSerializer(serializers.Serializer):
    input = _Input()
    appId = serializers.CharField(max_length=MAX_ID_LENGTH)  # noqa: N815 (Nextcloud's parameter name)
    identifier = serializers.CharField(max_length=MAX_ID_LENGTH, required=False, allow_blank=True, default="")
    numberOfImages = serializers.IntegerField(  # noqa: N815
        required=False,
        default=8,
        min_value=1,
        max_value=10_000,
        help_text="How many images (default 8); more than OCS_TEXT2IMAGE_MAX_IMAGES are capped to it.",
    )


class TextScheduleSerializer(serializers.Serializer):
    input = _Input()
    type = serializers.CharField(max_length=200, help_text="A task type id (the PHP class name).")
    appId = serializers.CharField(max_length=MAX_ID_LENGTH)  # noqa: N815
    identifier = serializers.CharField(max_length=MAX_ID_LENGTH, required=False, allow_blank=True, default="")


class ListByAppSerializer(serializers.Serializer):
    identifier = serializers.CharField(max_length=MAX_ID_LENGTH, required=False, allow_blank=True)


class Text2ImageTaskSerializer(serializers.Serializer):
    """``OCP\\TextToImage\\Task::jsonSerialize``."""

    def to_representation(self, task) -> dict:
        return {
            "id": task.pk,
            "status": int(text2image_status(task)),
            "userId": user_id_of(task),
            "appId": task.app_id,
            "numberOfImages": task.number_of_images,
            "input": task.input,
            "identifier": task.identifier,
            "completionExpectedAt": _timestamp(task.completion_expected_at),
        }


class TextTaskSerializer(serializers.Serializer):
    """``OCP\\TextProcessing\\Task::jsonSerialize``."""

    def to_representation(self, task) -> dict:
        return {
            "id": task.pk,
            "type": task.task_type,
            "status": int(task.status),
            "userId": user_id_of(task),
            "appId": task.app_id,
            "input": task.input,
            "output": task.output,
            "identifier": task.identifier,
            "completionExpectedAt": _timestamp(task.completion_expected_at),
        }


def task_type_json(task_type: str) -> dict:
    name, description = TASK_TYPE_TEXTS[task_type]
    return {"id": task_type, "name": name, "description": description}
