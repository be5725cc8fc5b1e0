"""The Sartiq subject endpoints (``/api/v1/subjects/``): the resource, copy, base images, ZIP uploads
and their tasks, and the administrators' lists, detail, owner assignment, LoRA trigger and upload."""

import uuid

from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from apps.accounts.models import User
from apps.core.dialects.base import parse_query
from apps.core.dialects.parsers import CappedUploadHandler, LimitedJSONParser
from apps.core.dialects.permissions import FORBIDDEN, NOT_SIGNED_IN, NOT_SIGNED_IN_CODE
from apps.core.errors import InvalidInput, NotFound
from apps.core.media import MediaTooLarge
from apps.core.sartiq.lora import read_lora_upload
from apps.core.sartiq.media import discard_stored_media_on_error
from apps.core.sartiq.ownership import accessible_queryset, check_modify, is_admin, organization_for
from apps.core.sartiq.viewsets import (
    ORGANIZATION_PARAMETER,
    PAGE_PARAMETERS,
    PUBLIC_PARAMETERS,
    MessageSerializer,
    OrganizationQuery,
    SartiqResourceViewSet,
    query_choice,
    query_uuid,
)
from apps.styles.api.serializers import AssignOwnerRequestSerializer  # the spec's one AssignOwnerRequest

from .. import ingest, selectors, services
from ..filters import SubjectFilter
from ..models import BodyType, Subject, SubjectAgeClass
from .serializers import (
    BaseImageCreateSerializer,
    BaseImageListResponseSerializer,
    BaseImagePublicSerializer,
    BulkAssignSubjectsRequestSerializer,
    SubjectAdminSerializer,
    SubjectCreateSerializer,
    SubjectLoraTriggerSerializer,
    SubjectMetadataSerializer,
    SubjectPublicSerializer,
    SubjectsAdminSerializer,
    SubjectsPublicSerializer,
    SubjectUpdateSerializer,
    UploadLoraFormSerializer,
    UploadTaskPublicSerializer,
    UploadZipFormSerializer,
)

TAGS = ["subjects"]
ADMIN_ONLY = "Only administrators may do this."
# Image fields take base64 too; a body may hold a few full-size images (larger ones: use uploads).
IMAGE_BODY_BYTES = 64 * 1024 * 1024
ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)
SUBJECT_ID_PARAMETER = OpenApiParameter("subject_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
USER_ID_PARAMETER = OpenApiParameter("user_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
TASK_ID_PARAMETER = OpenApiParameter("task_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
ASSIGN_ORGANIZATION_PARAMETER = OpenApiParameter(
    "organization_id",
    OpenApiTypes.UUID,
    OpenApiParameter.QUERY,
    required=False,
    description="Organization ID to assign",
)
FILTER_ORGANIZATION_PARAMETER = OpenApiParameter(
    "organization_id",
    OpenApiTypes.UUID,
    OpenApiParameter.QUERY,
    required=False,
    description="Organization ID to filter by",
)
BODY_TYPE_PARAMETER = OpenApiParameter(
    "body_type", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False, enum=BodyType.values
)
LIST_PARAMETERS = [
    OpenApiParameter(
        "age_class", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False, enum=SubjectAgeClass.values
    ),
    BODY_TYPE_PARAMETER,
    OpenApiParameter(
        "only_with_base_images",
        OpenApiTypes.BOOL,
        OpenApiParameter.QUERY,
        required=False,
        description="Only subjects that have at least one base image.",
    ),
    *PUBLIC_PARAMETERS,
    ORGANIZATION_PARAMETER,
    *PAGE_PARAMETERS,
]
ZIP_DESCRIPTION = """Upload a ZIP of images for a subject; answers at once with the task to poll.

With `subject_id` the images go to that subject. Without it, `metadata.json` at the root of the
archive holds the new subject's fields (SubjectCreate without images; 422 when it is missing or
invalid) and the subject is created first.

Layout (names compared case-insensitively; one folder holding everything is looked into):
`metadata.json`; `cover.jpg` (cover image); `portrait.jpg` (portrait); `<shot type>.jpg` (a base
image: the file name without extension is the shot type's name, or its default shot type, e.g.
`front_full_body.jpg`); `portfolio/…` (every image in it joins the portfolio). Images are .jpg,
.jpeg, .png or .webp. A member that cannot be used is skipped with its reason in
`result_data.skipped`. Caps: the archive at most SUBJECT_ZIP_MAX_BYTES (413 above), 10,000 members,
2 GiB decompressed, a compression ratio of 100, 25 MB per image (422 for the archive as a whole)."""


class IsAdministrator(BasePermission):
    """A superuser (the Sartiq "admin"): 401 when nobody is signed in, 403 for anyone else."""

    message = FORBIDDEN
    code = None

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            self.message, self.code = NOT_SIGNED_IN, NOT_SIGNED_IN_CODE
            return False
        self.message = ADMIN_ONLY
        return is_admin(user)


class _AdminListQuery(OrganizationQuery):
    body_type = query_choice(BodyType.choices)


class _BaseImagesQuery(OrganizationQuery):
    shot_type = query_uuid()


class _BaseImageUrlQuery(OrganizationQuery):
    url = serializers.CharField(trim_whitespace=False, allow_blank=True)


class _UploadQuery(OrganizationQuery):
    subject_id = query_uuid()


def _zip_too_large(limit: int) -> MediaTooLarge:
    mib = 1024 * 1024
    size = f"{limit // mib:,} MB" if limit % mib == 0 else f"{limit:,} bytes"
    return MediaTooLarge(f"A ZIP upload may be at most {size}; send a smaller archive.")


def read_zip_upload(request):
    """The uploaded ZIP (a temporary file on disk), read with a cap. Call it before anything reads
    ``request.data``."""
    limit = ingest.max_upload_bytes()
    django_request = request._request
    django_request.upload_handlers = [
        CappedUploadHandler(django_request, limit, refuse=_zip_too_large),
        TemporaryFileUploadHandler(django_request),
    ]
    data = request.data
    if len(request.FILES.getlist("file")) > 1:
        raise InvalidInput(errors={("file",): ["Send one ZIP archive per upload."]})
    form = UploadZipFormSerializer(data=data)
    form.is_valid(raise_exception=True)
    return form.validated_data["file"]


def _subject_schema():
    return extend_schema_view(
        list=extend_schema(
            operation_id="read_subjects",
            summary="Read Subjects",
            description=(
                "Without organization_id: the caller's personal subjects (include_public adds every "
                "owner's public ones); with it, that organization's."
            ),
            parameters=LIST_PARAMETERS,
            responses={200: SubjectsPublicSerializer},
            tags=TAGS,
        ),
        create=extend_schema(
            operation_id="create_subject",
            summary="Create Subject",
            parameters=[ORGANIZATION_PARAMETER],
            request=SubjectCreateSerializer,
            responses={200: SubjectPublicSerializer},
            tags=TAGS,
        ),
        retrieve=extend_schema(
            operation_id="read_subject",
            summary="Read Subject",
            parameters=[ID_PARAMETER, ORGANIZATION_PARAMETER],
            responses={200: SubjectPublicSerializer},
            tags=TAGS,
        ),
        update=extend_schema(
            operation_id="update_subject",
            summary="Update Subject",
            description="Every field is optional (a partial update, like PATCH).",
            parameters=[ID_PARAMETER, ORGANIZATION_PARAMETER],
            request=SubjectUpdateSerializer,
            responses={200: SubjectPublicSerializer},
            tags=TAGS,
        ),
        partial_update=extend_schema(
            operation_id="patch_subject",
            summary="Update Subject (PATCH)",
            parameters=[ID_PARAMETER, ORGANIZATION_PARAMETER],
            request=SubjectUpdateSerializer,
            responses={200: SubjectPublicSerializer},
            tags=TAGS,
        ),
        destroy=extend_schema(
            operation_id="delete_subject",
            summary="Delete Subject",
            description=(
                "Soft delete. The LoRA file, the upload archives and the images nothing else uses are "
                "deleted from storage when the subject is purged (purge_deleted, after "
                "SOFT_DELETE_RETENTION_DAYS)."
            ),
            parameters=[ID_PARAMETER, ORGANIZATION_PARAMETER],
            responses={200: MessageSerializer},
            tags=TAGS,
        ),
        restore=extend_schema(
            operation_id="restore_subject",
            summary="Restore Subject",
            description="Restore a soft-deleted subject (admin only).",
            parameters=[ID_PARAMETER],
            request=None,
            responses={200: SubjectPublicSerializer},
            tags=TAGS,
        ),
    )


@_subject_schema()
class SubjectViewSet(SartiqResourceViewSet):
    queryset = Subject.objects.all()
    serializer_class = SubjectPublicSerializer
    create_serializer_class = SubjectCreateSerializer
    update_serializer_class = SubjectUpdateSerializer
    filterset_class = SubjectFilter
    public_filters = True
    resource_label = "Subject"
    max_body_bytes = IMAGE_BODY_BYTES
    # Bodies are JSON, as the spec documents them (the uploads declare their own parsers).
    parser_classes = (LimitedJSONParser,)

    def get_queryset(self):
        return selectors.subjects()

    # --- the resource's writes ------------------------------------------------------------------

    def create_resource(self, *, user, owner, organization, data):
        return services.create_subject(user=user, owner=owner, organization=organization, data=data)

    def update_resource(self, *, user, resource, data, ownership):
        return services.update_subject(user=user, subject=resource, data=data, ownership=ownership)

    def delete_resource(self, *, user, resource):
        services.delete_subject(subject=resource)

    def restore_resource(self, *, user, resource):
        return services.restore_subject(subject=resource)

    # --- helpers ------------------------------------------------------------------------------

    def _uuid(self, value, *, not_found=None):
        try:
            return uuid.UUID(str(value))
        except ValueError:
            raise (not_found or self.not_found()) from None

    def _admin_subject(self, subject_id) -> Subject:
        """The live subject ``subject_id`` for an administrator's change; 404 otherwise."""
        subject = selectors.live_subject(self._uuid(subject_id))
        if subject is None:
            raise self.not_found()
        return subject

    def _modifiable(self, request) -> Subject:
        subject = self.get_object()
        check_modify(request.user, subject)
        return subject

    def _admin_output(self, subject) -> dict:
        return SubjectAdminSerializer(subject, context=self.get_serializer_context()).data

    # --- copy -----------------------------------------------------------------------------------

    @extend_schema(
        operation_id="copy_subject",
        summary="Copy Subject",
        description=(
            "A copy of a subject for the caller (admin only): its fields, measurements and image "
            "references with a fresh slug; not its LoRA, upload tasks or guideline memberships."
        ),
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: SubjectPublicSerializer},
        tags=TAGS,
    )
    @action(detail=True, methods=["post"], url_path="copy", permission_classes=[IsAdministrator])
    def copy(self, request, *args, **kwargs):
        subject = self._admin_subject(self.kwargs["id"])
        with transaction.atomic():
            copy = services.copy_subject(user=request.user, subject=subject)
        return Response(self.output(copy))

    # --- base images ------------------------------------------------------------------------------

    @extend_schema(
        methods=["POST"],
        operation_id="upload_subject_base_image",
        summary="Upload Subject Base Image",
        description=(
            "Add the base image of a subject for a shot type (replacing the one it had): `image_url` is "
            "the file URL of an upload (or any image input), `shot_type_id` a shot type the caller may use."
        ),
        parameters=[ID_PARAMETER, ORGANIZATION_PARAMETER],
        request=BaseImageCreateSerializer,
        responses={200: BaseImagePublicSerializer},
        tags=TAGS,
    )
    @extend_schema(
        methods=["GET"],
        operation_id="get_subject_base_images",
        summary="Get Subject Base Images",
        parameters=[
            ID_PARAMETER,
            ORGANIZATION_PARAMETER,
            OpenApiParameter(
                "shot_type",
                OpenApiTypes.UUID,
                OpenApiParameter.QUERY,
                required=False,
                description="Filter by shot type ID",
            ),
        ],
        responses={200: BaseImageListResponseSerializer},
        tags=TAGS,
    )
    @extend_schema(
        methods=["DELETE"],
        operation_id="delete_subject_base_image",
        summary="Delete Subject Base Image",
        description="Delete the base image with this URL; its file goes when nothing else uses it.",
        parameters=[
            ID_PARAMETER,
            ORGANIZATION_PARAMETER,
            OpenApiParameter(
                "url",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=True,
                description="URL of the base image to delete",
            ),
        ],
        responses={200: MessageSerializer},
        tags=TAGS,
    )
    @action(detail=True, methods=["get", "post", "delete"], url_path="base_images", url_name="base-images")
    def base_images(self, request, *args, **kwargs):
        if request.method == "GET":
            query = parse_query(_BaseImagesQuery, request)
            subject = self.get_object()
            rows = selectors.base_image_rows(subject, shot_type_id=query["shot_type"])
            return Response({"data": BaseImagePublicSerializer(rows, many=True).data})
        if request.method == "DELETE":
            query = parse_query(_BaseImageUrlQuery, request)
            subject = self._modifiable(request)
            with transaction.atomic():
                services.delete_base_image(subject=subject, url=query["url"])
            return Response({"message": "Base image deleted successfully"})
        subject = self._modifiable(request)
        form = BaseImageCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        with discard_stored_media_on_error(), transaction.atomic():
            row = services.add_base_image(user=request.user, subject=subject, **form.validated_data)
        return Response(BaseImagePublicSerializer(row).data)

    # --- ZIP uploads ---------------------------------------------------------------------------

    @extend_schema(
        operation_id="upload_subject_base_images_zip",
        summary="Upload Subject Base Images Zip",
        description=ZIP_DESCRIPTION,
        parameters=[
            ORGANIZATION_PARAMETER,
            OpenApiParameter("subject_id", OpenApiTypes.UUID, OpenApiParameter.QUERY, required=False),
        ],
        request={"multipart/form-data": UploadZipFormSerializer},
        responses={200: UploadTaskPublicSerializer},
        tags=TAGS,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="base-images/upload",
        url_name="base-images-upload",
        parser_classes=[MultiPartParser],
    )
    def upload_zip(self, request, *args, **kwargs):
        query = parse_query(_UploadQuery, request)
        user = request.user
        subject = None
        if query["subject_id"] is not None:
            queryset = accessible_queryset(Subject.objects.all(), user=user, organization_id=query["organization_id"])
            subject = queryset.filter(pk=query["subject_id"]).first()
            if subject is None:
                raise self.not_found()
            check_modify(user, subject)
        upload = read_zip_upload(request)
        source = upload.temporary_file_path() if hasattr(upload, "temporary_file_path") else upload
        metadata = ingest.read_metadata(source, required=subject is None)
        organization, subject_data = None, None
        if subject is None:
            form = SubjectMetadataSerializer(data=metadata)
            if not form.is_valid():
                raise serializers.ValidationError({"file": {ingest.METADATA_NAME: form.errors}})
            subject_data = dict(form.validated_data)
            organization_id, location = subject_data.pop("organization_id", None), "body"
            if organization_id is None:
                organization_id, location = query["organization_id"], "query"
            if organization_id is not None:
                organization = organization_for(user=user, organization_id=organization_id, location=location)
        with transaction.atomic():
            task = ingest.start_upload(
                user=user, archive=upload, subject=subject, organization=organization, subject_data=subject_data
            )
        return Response(UploadTaskPublicSerializer(task).data)

    @extend_schema(
        operation_id="get_subject_base_images_upload_task",
        summary="Get Subject Base Images Upload Task",
        description="Poll an upload's task: its owner, members of its subject's organization and administrators may.",
        parameters=[TASK_ID_PARAMETER],
        responses={200: UploadTaskPublicSerializer},
        tags=TAGS,
    )
    @action(detail=False, methods=["get"], url_path=r"upload-tasks/(?P<task_id>[^/]+)", url_name="upload-task")
    def upload_task(self, request, task_id=None, **kwargs):
        missing = NotFound("Upload task not found.")
        task = selectors.upload_task_for(user=request.user, task_id=self._uuid(task_id, not_found=missing))
        if task is None:
            raise missing
        return Response(UploadTaskPublicSerializer(task).data)

    @extend_schema(
        operation_id="get_subject_base_images_upload_task_by_subject",
        summary="Get Subject Base Images Upload Task By Subject",
        description="The latest upload task of a subject (by created_at).",
        parameters=[ID_PARAMETER, ORGANIZATION_PARAMETER],
        responses={200: UploadTaskPublicSerializer},
        tags=TAGS,
    )
    @action(detail=True, methods=["get"], url_path="base-images/upload-task", url_name="latest-upload-task")
    def latest_upload_task(self, request, *args, **kwargs):
        subject = self.get_object()
        task = selectors.latest_upload_task(subject)
        if task is None:
            raise NotFound("The subject has no upload task.")
        return Response(UploadTaskPublicSerializer(task).data)

    # --- administrators -------------------------------------------------------------------------

    @extend_schema(
        operation_id="read_subjects_admin",
        summary="Read Subjects Admin",
        description="Every subject with the admin fields, soft-deleted ones included (admin only).",
        parameters=[BODY_TYPE_PARAMETER, FILTER_ORGANIZATION_PARAMETER, *PAGE_PARAMETERS],
        responses={200: SubjectsAdminSerializer},
        tags=TAGS,
    )
    @action(
        detail=False, methods=["get"], url_path=r"admin/?", url_name="admin-list", permission_classes=[IsAdministrator]
    )
    def admin_list(self, request, *args, **kwargs):
        query = parse_query(_AdminListQuery, request)
        queryset = selectors.subjects_for_admin(
            user=request.user, organization_id=query["organization_id"], body_type=query["body_type"]
        )
        page = self.paginate_queryset(queryset)
        data = SubjectAdminSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @extend_schema(
        operation_id="read_subject_admin",
        summary="Read Subject Admin",
        description="A subject with the admin fields, soft-deleted or not (admin only).",
        parameters=[ID_PARAMETER],
        responses={200: SubjectAdminSerializer},
        tags=TAGS,
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"admin/(?P<id>[^/]+)",
        url_name="admin-detail",
        permission_classes=[IsAdministrator],
    )
    def admin_detail(self, request, **kwargs):
        subject = selectors.subject_for_admin(self._uuid(kwargs["id"]))
        if subject is None:
            raise self.not_found()
        return Response(self._admin_output(subject))

    @extend_schema(
        operation_id="update_subject_lora_trigger",
        summary="Update Subject Lora Trigger",
        description="Set the LoRA trigger word of a subject (admin only); without one it is cleared.",
        parameters=[SUBJECT_ID_PARAMETER],
        request={
            "application/json": SubjectLoraTriggerSerializer,
            "application/x-www-form-urlencoded": SubjectLoraTriggerSerializer,
        },
        responses={200: SubjectPublicSerializer},
        tags=TAGS,
    )
    @action(
        detail=False,
        methods=["patch"],
        url_path=r"admin/(?P<subject_id>[^/]+)/lora-trigger",
        url_name="admin-lora-trigger",
        permission_classes=[IsAdministrator],
        parser_classes=[LimitedJSONParser, FormParser, MultiPartParser],
    )
    def lora_trigger(self, request, subject_id=None, **kwargs):
        subject = self._admin_subject(subject_id)
        form = SubjectLoraTriggerSerializer(data=request.data if request.data is not None else {})
        form.is_valid(raise_exception=True)
        with transaction.atomic():
            subject = services.set_lora_trigger(subject=subject, lora_trigger=form.validated_data.get("lora_trigger"))
        return Response(self.output(selectors.live_subject(subject.pk)))

    @extend_schema(
        operation_id="upload_subject_lora",
        summary="Upload Subject Lora",
        description=(
            "Upload a pre-trained LoRA file for a subject (admin only): multipart `file` (.safetensors, "
            ".ckpt, .pt, .pth or .bin, at most LORA_MAX_BYTES, 100 MB by default: 413 above), "
            "`lora_trigger`, and optionally `entity_type` (`subject`). A .safetensors header must be "
            "valid (422 otherwise)."
        ),
        parameters=[SUBJECT_ID_PARAMETER],
        request={"multipart/form-data": UploadLoraFormSerializer},
        responses={200: SubjectPublicSerializer},
        tags=TAGS,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path=r"admin/(?P<subject_id>[^/]+)/upload-lora",
        url_name="admin-upload-lora",
        permission_classes=[IsAdministrator],
        parser_classes=[MultiPartParser],
    )
    def upload_lora(self, request, subject_id=None, **kwargs):
        subject = self._admin_subject(subject_id)
        form = read_lora_upload(request)
        entity_type = request.data.get("entity_type")
        if entity_type not in (None, "", "subject"):
            raise InvalidInput(errors={("entity_type",): ["This endpoint stores LoRA files of subjects: 'subject'."]})
        subject = services.upload_lora(subject=subject, upload=form["file"], lora_trigger=form["lora_trigger"])
        return Response(self.output(selectors.live_subject(subject.pk)))

    @extend_schema(
        operation_id="assign_subject_owner",
        summary="Assign Subject Owner",
        description="Give a subject to another owner (admin only), and optionally move it into an organization.",
        parameters=[SUBJECT_ID_PARAMETER, ASSIGN_ORGANIZATION_PARAMETER],
        request=AssignOwnerRequestSerializer,
        responses={200: SubjectPublicSerializer},
        tags=TAGS,
    )
    @action(
        detail=False,
        methods=["patch"],
        url_path=r"admin/(?P<subject_id>[^/]+)/assign-owner",
        url_name="admin-assign-owner",
        permission_classes=[IsAdministrator],
    )
    def assign_owner(self, request, subject_id=None, **kwargs):
        subject = self._admin_subject(subject_id)
        form = AssignOwnerRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        owner = User.objects.filter(pk=form.validated_data["new_owner_id"]).first()
        if owner is None:
            message = f"No user has the id '{form.validated_data['new_owner_id']}'."
            raise InvalidInput(message, errors={("new_owner_id",): [message]})
        extra = self._assign_organization(request)
        with transaction.atomic():
            subject = services.assign_owner(subject=subject, owner=owner, **extra)
        return Response(self.output(selectors.live_subject(subject.pk)))

    def _assign_organization(self, request) -> dict:
        query = parse_query(OrganizationQuery, request)
        if query["organization_id"] is None:
            return {}
        return {"organization": organization_for(user=request.user, organization_id=query["organization_id"])}

    def _user(self, user_id) -> User:
        missing = NotFound("User not found.")
        user = User.objects.filter(pk=self._uuid(user_id, not_found=missing)).first()
        if user is None:
            raise missing
        return user

    @extend_schema(
        operation_id="bulk_assign_subjects",
        summary="Bulk Assign Subjects",
        description=(
            "Give several subjects to a user (admin only), all or none, and optionally move them into an "
            "organization; answers how many were assigned."
        ),
        parameters=[USER_ID_PARAMETER, ASSIGN_ORGANIZATION_PARAMETER],
        request=BulkAssignSubjectsRequestSerializer,
        responses={200: MessageSerializer},
        tags=TAGS,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path=r"admin/users/(?P<user_id>[^/]+)/assign-subjects",
        url_name="admin-assign-subjects",
        permission_classes=[IsAdministrator],
    )
    def assign_subjects(self, request, user_id=None, **kwargs):
        owner = self._user(user_id)
        form = BulkAssignSubjectsRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        extra = self._assign_organization(request)
        with transaction.atomic():
            assigned = services.assign_subjects(subject_ids=form.validated_data["subject_ids"], owner=owner, **extra)
        return Response({"message": f"{len(assigned)} subject(s) assigned to {owner.email}"})

    @extend_schema(
        operation_id="get_user_subjects",
        summary="Get User Subjects",
        description="The live subjects a user owns (admin only), optionally of one organization.",
        parameters=[USER_ID_PARAMETER, FILTER_ORGANIZATION_PARAMETER, *PAGE_PARAMETERS],
        responses={200: SubjectsPublicSerializer},
        tags=TAGS,
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"admin/users/(?P<user_id>[^/]+)/subjects",
        url_name="admin-user-subjects",
        permission_classes=[IsAdministrator],
    )
    def user_subjects(self, request, user_id=None, **kwargs):
        owner = self._user(user_id)
        query = parse_query(OrganizationQuery, request)
        queryset = selectors.subjects_of_user(user=request.user, owner=owner, organization_id=query["organization_id"])
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.serializer_class(page, many=True).data)
