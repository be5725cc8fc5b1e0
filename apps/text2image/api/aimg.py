"""AIMG Image Generation: generateImage, generateVideo, getItemStatus, getModels, getQueuesLength,
getSamplePrompts.

Every endpoint needs an ``X-Session-ID`` (guests generate too, unless the model has a registration
wall). A generation answers the GenerationStatus of its item at once (queued, with its exact
``queuePosition``); the front end polls getItemStatus until it is completed or failed.
"""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.dialects.aimg import AimgViewSet
from apps.core.dialects.base import parse_query
from apps.core.dialects.permissions import HasApiSession, api_session
from apps.core.errors import InvalidInput, NotFound
from apps.items import selectors as item_selectors
from apps.items.models import Item

from ..models import GenerationJob
from ..selectors import catalogue as catalogue_selectors
from ..selectors import jobs as job_selectors
from ..services import generation, jobs
from .schemas import GENERATION_STATUS, MODELS, PROMPTS, QUEUE_LENGTHS
from .serializers import (
    GenerateImageBody,
    GenerateVideoBody,
    generation_status_payload,
    model_payload,
    parameter_values,
    prompt_payload,
)

TAGS = ["Image Generation"]
MAX_MODEL_IDS = 100


def _ids(raw: str | None, name: str) -> list[str] | None:
    """A comma-separated id list; None when the parameter is absent."""
    if raw is None:
        return None
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if len(ids) > MAX_MODEL_IDS:
        message = f"At most {MAX_MODEL_IDS} ids may be given."
        raise InvalidInput(message, errors={(name,): [message]}, location="query")
    return ids


class ModelIdsQuery(serializers.Serializer):
    modelIDs = serializers.CharField(required=False, allow_blank=True, max_length=10_000)  # noqa: N815


class SamplePromptsQuery(serializers.Serializer):
    randomOne = serializers.BooleanField(required=False, default=False)  # noqa: N815


class ItemStatusQuery(serializers.Serializer):
    imageID = serializers.UUIDField()  # noqa: N815


def _q(name, kind=str, description="", required=False) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, required=required, description=description)


MODEL_IDS_PARAMETER = _q("modelIDs", str, "Comma-separated modelIDs: only these models.")


def status_of(item: Item, *, request) -> dict:
    job = job_selectors.job_for_item(item)
    position = job_selectors.queue_position(job) if job is not None else None
    return generation_status_payload(item, job, request=request, position=position)


class GenerationViewSet(AimgViewSet):
    permission_classes = (HasApiSession,)
    queryset = GenerationJob.objects.none()  # for the schema; actions use the services

    def _generate(self, request, body_class, *, video: bool):
        form = body_class(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        model_id = data.get("modelName") or catalogue_selectors.default_model_id(video=video)
        model = catalogue_selectors.get_model(model_id)
        if model is None or not model.enabled or model.makes_video != video:
            usable = catalogue_selectors.usable_model_ids(video=video)
            kind = "video" if video else "image"
            message = f"Unknown {kind} model {model_id!r}; the {kind} models are: {', '.join(usable) or 'none'}."
            raise InvalidInput(message, errors={("modelName",): [message]})
        parameters = generation.validate_parameters(model=model, values=parameter_values(data))
        folder = None
        if data.get("folderID"):
            from apps.folders.selectors import resolve_target_folder

            folder = resolve_target_folder(user=request.user, folder_id=data["folderID"])
        job = jobs.schedule_job(
            owner=request.user,
            guest_session=api_session(request),
            model=model,
            kind=GenerationJob.Kind.VIDEO if video else GenerationJob.Kind.IMAGE,
            raw_prompt=data["prompt"],
            raw_negative_prompt=data.get("negprompt", ""),
            parameters=parameters,
            folder=folder,
            inline_budget=float(getattr(settings, "GENERATION_INLINE_BUDGET", 0) or 0) or None,
        )
        item = job_selectors.job_items(job).first()
        return Response(status_of(item, request=request))

    @extend_schema(
        operation_id="generateImage", tags=TAGS, request=GenerateImageBody, responses={200: GENERATION_STATUS}
    )
    def generate_image(self, request):
        return self._generate(request, GenerateImageBody, video=False)

    @extend_schema(
        operation_id="generateVideo", tags=TAGS, request=GenerateVideoBody, responses={200: GENERATION_STATUS}
    )
    def generate_video(self, request):
        return self._generate(request, GenerateVideoBody, video=True)

    @extend_schema(
        operation_id="getItemStatus",
        tags=TAGS,
        parameters=[_q("imageID", OpenApiTypes.UUID, "The id of the item.", required=True)],
        responses={200: GENERATION_STATUS},
    )
    def get_item_status(self, request):
        image_id = parse_query(ItemStatusQuery, request)["imageID"]
        item = Item.all_objects.filter(pk=image_id).first()
        visible = item is not None and (
            item_selectors.is_owner(item, request.user, session=api_session(request))
            or item_selectors.is_items_admin(request.user)
        )
        if not visible:
            raise NotFound("No item with this imageID exists, or you may not see it.")
        return Response(status_of(item, request=request))


class CatalogueViewSet(AimgViewSet):
    permission_classes = (HasApiSession,)
    queryset = GenerationJob.objects.none()

    @extend_schema(operation_id="getModels", tags=TAGS, parameters=[MODEL_IDS_PARAMETER], responses={200: MODELS})
    def get_models(self, request):
        ids = _ids(parse_query(ModelIdsQuery, request).get("modelIDs"), "modelIDs")
        return Response([model_payload(model) for model in catalogue_selectors.enabled_models(ids)])

    @extend_schema(
        operation_id="getQueuesLength", tags=TAGS, parameters=[MODEL_IDS_PARAMETER], responses={200: QUEUE_LENGTHS}
    )
    def get_queues_length(self, request):
        ids = _ids(parse_query(ModelIdsQuery, request).get("modelIDs"), "modelIDs")
        models = list(catalogue_selectors.enabled_models(ids))
        lengths = job_selectors.queue_lengths([model.model_id for model in models])
        payload = []
        for model in models:
            for priority, queue in ((False, model.queue), (True, model.priority_queue)):
                payload.append(
                    {
                        "modelID": model.model_id,
                        "queueID": queue,
                        "queueLength": lengths.get((model.model_id, priority), 0),
                    }
                )
        return Response(payload)

    @extend_schema(
        operation_id="getSamplePrompts",
        tags=TAGS,
        parameters=[_q("randomOne", bool, "Only one prompt, chosen at random.")],
        responses={200: PROMPTS},
    )
    def get_sample_prompts(self, request):
        if parse_query(SamplePromptsQuery, request)["randomOne"]:
            prompt = catalogue_selectors.random_sample_prompt()
            return Response([prompt_payload(prompt)] if prompt is not None else [])
        return Response([prompt_payload(prompt) for prompt in catalogue_selectors.sample_prompts()])
