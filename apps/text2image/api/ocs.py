"""Nextcloud OCS text2image and textprocessing APIs (``/ocs/v2.php/`` and ``/ocs/v1.php/``).

The envelope, XML/JSON negotiation and v1/v2 status semantics are the kernel's OCS dialect. What
these endpoints add, to answer as Nextcloud's ``TextToImageApiController`` and
``TextProcessingApiController`` do:

- errors carry ``{"message": ...}`` as their data (as Nextcloud's ``DataResponse`` errors do), and
  the same message in ``meta.message``;
- a request with neither ``OCS-APIRequest: true`` nor a Bearer token is refused as Nextcloud's
  security middleware refuses it: HTTP 412 with the JSON body ``{"message": "CSRF check failed"}``;
- HTTP Basic accepts app passwords (``accounts.AppPassword``) besides the account password;
- parameters come from the query string, a form body or a JSON body (the body wins);
- ``PublicPage`` endpoints (availability, task types, schedule, fetching a task or an image) serve
  anonymous callers: an anonymous client's tasks belong to a guest session the server makes for it,
  whose id travels in the ``ocs_guest`` cookie (or the ``X-Session-ID`` header), so nobody else can
  fetch them. Deleting and listing need a signed-in user (``NoAdminRequired``), as in Nextcloud;
- ``schedule`` is rate-limited (sliding window; 20 per 120 s per user, 5 per 120 s per anonymous IP)
  and repeated 404 answers to task lookups from one IP end in 429 (Nextcloud's brute-force
  protection), both answering 429.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from apps.core.dialects.auth import (
    AimgAuthentication,
    BearerTokenAuthentication,
    DomainBasicAuthentication,
    plausible_secret,
)
from apps.core.dialects.ocs import OcsDialect, OcsView, api_version, envelope
from apps.core.dialects.permissions import IsSignedIn
from apps.core.errors import InvalidInput, NotFound, PreconditionFailed, RateLimited
from apps.core.ratelimit import client_ip

from ..models import TextProcessingTask
from ..providers.text import available_task_types
from ..selectors import ocs as selectors
from ..selectors.ocs import Requester
from ..services import ocs as services
from ..services import ocs_limits
from .ocs_serializers import (
    MAX_ID_LENGTH,
    ListByAppSerializer,
    Text2ImageScheduleSerializer,
    Text2ImageTaskSerializer,
    TextScheduleSerializer,
    TextTaskSerializer,
    task_type_json,
)

CSRF_CHECK_FAILED = "CSRF check failed"
TASK_NOT_FOUND = "Task not found"
IMAGE_NOT_FOUND = "Image not found"
RATE_LIMIT_EXCEEDED = "Rate limit exceeded"
MAXIMUM_DELAY = "Reached maximum delay"
GUEST_COOKIE = "ocs_guest"
T2I_TAGS = ["OCS text2image"]
TEXT_TAGS = ["OCS textprocessing"]


class CsrfCheckFailed(PreconditionFailed):
    default_message = CSRF_CHECK_FAILED
    code = "csrf_check_failed"


class OcsTaskDialect(OcsDialect):
    """The kernel's OCS dialect, with Nextcloud's error data and CSRF refusal."""

    def error_response(self, problem, request):
        if problem.code == CsrfCheckFailed.code:
            response = JsonResponse({"message": CSRF_CHECK_FAILED}, status=412)
        else:
            message = problem.summary()
            data, status = envelope(
                {"message": message}, http_status=problem.status, version=api_version(request), message=message
            )
            response = Response(data, status=status, headers=problem.headers)
        response.dialect_final = True
        return response


OCS_TASKS = OcsTaskDialect()


class OcsBasicAuthentication(DomainBasicAuthentication):
    """HTTP Basic with the email or username and either the password or an app password."""

    def authenticate_credentials(self, userid, password, request=None):
        from apps.accounts import selectors as accounts

        domain = getattr(request, "domain", None)
        if domain is not None and "\x00" not in userid and plausible_secret(password):
            app_password = accounts.app_password_for(login=userid, secret=password, domain=domain)
            if app_password is not None:
                return app_password.user, app_password
        return super().authenticate_credentials(userid, password, request)


class OcsTaskView(OcsView):
    dialect = OCS_TASKS
    authentication_classes = (BearerTokenAuthentication, OcsBasicAuthentication, AimgAuthentication)
    permission_classes = (AllowAny,)
    # Methods that need a signed-in user (Nextcloud's NoAdminRequired without PublicPage).
    signed_in_methods: frozenset[str] = frozenset()

    def get_permissions(self):
        if self.request.method in self.signed_in_methods:
            return [IsSignedIn()]
        return [permission() for permission in self.permission_classes]

    def csrf_failure(self) -> Exception:
        # The kernel's OCS check, answered as Nextcloud answers it.
        return CsrfCheckFailed()

    # --- helpers -------------------------------------------------------------------------------

    def params(self) -> dict:
        """The request's parameters: query string, then a form or JSON body (the body wins)."""
        request = self.request
        merged = {key: request.query_params.get(key) for key in request.query_params}
        data = request.data
        if hasattr(data, "getlist"):
            merged.update({key: data.get(key) for key in data})
        elif isinstance(data, dict):
            merged.update(data)
        elif data not in (None, "", [], {}):
            raise InvalidInput("The request body must be a JSON object or form fields.")
        return merged

    def validated(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.params())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def requester(self) -> Requester:
        request = self.request
        if request.user is not None and request.user.is_authenticated:
            return Requester(user=request.user)
        session = getattr(request.auth, "session", None)  # a guest's X-Session-ID
        if session is None:
            session = self.cookie_session()
        return Requester(session=session)

    def cookie_session(self):
        from apps.accounts import selectors as accounts

        raw = self.request.COOKIES.get(GUEST_COOKIE, "")
        try:
            session_id = uuid.UUID(raw)
        except ValueError:
            return None
        session = accounts.active_session(session_id=session_id, domain=self.request.domain)
        return session if session is not None and session.user_id is None else None

    def requester_for_writing(self) -> tuple[Requester, object | None]:
        """The requester, with a new guest session for an anonymous client that has none (returned
        second, to be handed to the client in the cookie)."""
        requester = self.requester()
        if requester.is_known:
            return requester, None
        request = self.request
        session = services.start_guest_session(
            domain=request.domain,
            ip_address=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
        return Requester(session=session), session

    def with_guest_cookie(self, response, session):
        if session is not None:
            response.set_cookie(
                GUEST_COOKIE,
                str(session.pk),
                max_age=int(settings.API_SESSION_TTL.total_seconds()),
                path="/ocs/",
                secure=self.request.is_secure(),
                httponly=True,
                samesite="Lax",
            )
        return response

    def check_schedule_rate(self, group: str) -> None:
        if not getattr(settings, "RATELIMIT_ENABLE", True):
            return
        user = self.request.user
        if user is not None and user.is_authenticated:
            key, limit = f"{group}:user:{user.pk}", settings.OCS_SCHEDULE_USER_LIMIT
        else:
            key, limit = f"{group}:ip:{client_ip(self.request)}", settings.OCS_SCHEDULE_ANONYMOUS_LIMIT
        if not ocs_limits.attempt(key, limit=limit, period=settings.OCS_SCHEDULE_PERIOD_SECONDS):
            raise RateLimited(RATE_LIMIT_EXCEEDED)

    def _not_found_key(self) -> str:
        return f"not-found:{client_ip(self.request)}"

    def check_lookup_throttle(self) -> None:
        """429 for an IP whose task lookups answered 404 too often lately (anti-enumeration)."""
        if not getattr(settings, "RATELIMIT_ENABLE", True):
            return
        seen = ocs_limits.count(self._not_found_key(), period=settings.OCS_NOT_FOUND_PERIOD_SECONDS)
        if seen >= settings.OCS_NOT_FOUND_LIMIT:
            raise RateLimited(MAXIMUM_DELAY)

    def not_found(self, message: str = TASK_NOT_FOUND) -> NotFound:
        ocs_limits.record(self._not_found_key(), period=settings.OCS_NOT_FOUND_PERIOD_SECONDS)
        return NotFound(message)

    @staticmethod
    def inline_budget() -> float:
        return settings.OCS_REQUEST_BUDGET_SECONDS * settings.OCS_INLINE_SHARE


TASK_ID = OpenApiParameter("task_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The task id.")
OCS_OBJECT = OpenApiResponse(OpenApiTypes.OBJECT, description="The OCS envelope (XML, or JSON with format=json).")
IDENTIFIER = OpenApiParameter(
    "identifier",
    {"type": "string", "maxLength": MAX_ID_LENGTH, "pattern": "^[^\\u0000]*$"},
    OpenApiParameter.QUERY,
    required=False,
    description="Only tasks with this identifier.",
)


# --- text2image ----------------------------------------------------------------------------------


class Text2ImageAvailableView(OcsTaskView):
    @extend_schema(tags=T2I_TAGS, summary="Whether text-to-image is available", responses={200: OCS_OBJECT})
    def get(self, request):
        return Response({"isAvailable": services.images_available()})


class Text2ImageScheduleView(OcsTaskView):
    @extend_schema(
        tags=T2I_TAGS,
        summary="Schedule a text-to-image task",
        request=Text2ImageScheduleSerializer,
        responses={200: OCS_OBJECT, 412: OCS_OBJECT, 429: OCS_OBJECT},
    )
    def post(self, request):
        self.check_schedule_rate("text2image")
        values = self.validated(Text2ImageScheduleSerializer)
        requester, new_session = self.requester_for_writing()
        task = services.schedule_image_task(
            requester=requester,
            text=values["input"],
            app_id=values["appId"],
            identifier=values["identifier"],
            images=values["numberOfImages"],
            inline_budget=self.inline_budget(),
        )
        return self.with_guest_cookie(Response({"task": Text2ImageTaskSerializer(task).data}), new_session)


class Text2ImageTaskView(OcsTaskView):
    signed_in_methods = frozenset({"DELETE"})

    def task(self, task_id: int):
        self.check_lookup_throttle()
        task = selectors.text2image_task(self.requester(), task_id)
        if task is None:
            raise self.not_found()
        return task

    @extend_schema(tags=T2I_TAGS, summary="Fetch a task", parameters=[TASK_ID], responses={200: OCS_OBJECT})
    def get(self, request, task_id: int):
        return Response({"task": Text2ImageTaskSerializer(self.task(task_id)).data})

    @extend_schema(
        tags=T2I_TAGS,
        summary="Fetch a task (the documented verb)",
        parameters=[TASK_ID],
        request=None,
        responses={200: OCS_OBJECT},
    )
    def post(self, request, task_id: int):
        return self.get(request, task_id)

    @extend_schema(
        tags=T2I_TAGS, summary="Delete a task and its images", parameters=[TASK_ID], responses={200: OCS_OBJECT}
    )
    def delete(self, request, task_id: int):
        task = self.task(task_id)
        data = Text2ImageTaskSerializer(task).data  # the task as it was, as Nextcloud answers
        services.delete_image_task(task=task)
        return Response({"task": data})


class Text2ImageImageView(OcsTaskView):
    @extend_schema(
        tags=T2I_TAGS,
        summary="Fetch a result image",
        parameters=[TASK_ID, OpenApiParameter("index", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The image, with its content type."),
            404: OCS_OBJECT,
        },
    )
    def get(self, request, task_id: int, index: int):
        from apps.core.services.files import open_file_for_download

        self.check_lookup_throttle()
        task = selectors.text2image_task(self.requester(), task_id)
        if task is None:
            raise self.not_found()
        item = selectors.task_image(task, index)
        if item is None:
            raise self.not_found(IMAGE_NOT_FOUND)
        served = open_file_for_download(file=item.file, verify=False)
        try:
            content = served.stream.read()
        finally:
            served.stream.close()
        return HttpResponse(content, content_type=served.content_type)

    @extend_schema(
        tags=T2I_TAGS,
        summary="Fetch a result image (the documented verb)",
        parameters=[TASK_ID, OpenApiParameter("index", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=None,
        responses={(200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY), 404: OCS_OBJECT},
    )
    def post(self, request, task_id: int, index: int):
        return self.get(request, task_id, index)


class Text2ImageTasksByAppView(OcsTaskView):
    signed_in_methods = frozenset({"GET", "DELETE"})

    @extend_schema(tags=T2I_TAGS, summary="List tasks by app", parameters=[IDENTIFIER], responses={200: OCS_OBJECT})
    def get(self, request, app_id: str):
        values = self.validated(ListByAppSerializer)
        tasks = selectors.text2image_tasks_by_app(self.requester(), app_id=app_id, identifier=values.get("identifier"))
        return Response({"tasks": Text2ImageTaskSerializer(tasks, many=True).data})

    @extend_schema(
        tags=T2I_TAGS,
        summary="List tasks by app (the documented verb; nothing is deleted)",
        parameters=[IDENTIFIER],
        request=None,
        responses={200: OCS_OBJECT},
    )
    def delete(self, request, app_id: str):
        return self.get(request, app_id)


# --- textprocessing ------------------------------------------------------------------------------


class TextTaskTypesView(OcsTaskView):
    @extend_schema(tags=TEXT_TAGS, summary="The available task types", responses={200: OCS_OBJECT})
    def get(self, request):
        return Response({"types": [task_type_json(task_type) for task_type in available_task_types()]})


class TextScheduleView(OcsTaskView):
    @extend_schema(
        tags=TEXT_TAGS,
        summary="Schedule a text-processing task",
        request=TextScheduleSerializer,
        responses={200: OCS_OBJECT, 400: OCS_OBJECT, 412: OCS_OBJECT, 429: OCS_OBJECT},
    )
    def post(self, request):
        self.check_schedule_rate("textprocessing")
        values = self.validated(TextScheduleSerializer)
        if values["type"] not in TextProcessingTask.Type.values:
            raise InvalidInput(services.UNKNOWN_TASK_TYPE)
        requester, new_session = self.requester_for_writing()
        task = services.schedule_text_task(
            requester=requester,
            task_type=values["type"],
            text=values["input"],
            app_id=values["appId"],
            identifier=values["identifier"],
            inline_budget=self.inline_budget(),
        )
        return self.with_guest_cookie(Response({"task": TextTaskSerializer(task).data}), new_session)


class TextTaskView(OcsTaskView):
    signed_in_methods = frozenset({"DELETE"})

    def task(self, task_id: int):
        self.check_lookup_throttle()
        task = selectors.text_task(self.requester(), task_id)
        if task is None:
            raise self.not_found()
        return task

    @extend_schema(tags=TEXT_TAGS, summary="Fetch a task", parameters=[TASK_ID], responses={200: OCS_OBJECT})
    def get(self, request, task_id: int):
        return Response({"task": TextTaskSerializer(self.task(task_id)).data})

    @extend_schema(
        tags=TEXT_TAGS,
        summary="Fetch a task (the documented verb)",
        parameters=[TASK_ID],
        request=None,
        responses={200: OCS_OBJECT},
    )
    def post(self, request, task_id: int):
        return self.get(request, task_id)

    @extend_schema(tags=TEXT_TAGS, summary="Delete a task", parameters=[TASK_ID], responses={200: OCS_OBJECT})
    def delete(self, request, task_id: int):
        task = self.task(task_id)
        data = TextTaskSerializer(task).data
        services.delete_text_task(task=task)
        return Response({"task": data})


class TextTasksByAppView(OcsTaskView):
    signed_in_methods = frozenset({"GET"})

    @extend_schema(tags=TEXT_TAGS, summary="List tasks by app", parameters=[IDENTIFIER], responses={200: OCS_OBJECT})
    def get(self, request, app_id: str):
        values = self.validated(ListByAppSerializer)
        tasks = selectors.text_tasks_by_app(self.requester(), app_id=app_id, identifier=values.get("identifier"))
        return Response({"tasks": TextTaskSerializer(tasks, many=True).data})
