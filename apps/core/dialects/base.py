"""What every dialect shares: the Dialect interface, the view mixin and the exception handler."""

from django.conf import settings
from rest_framework.exceptions import NotAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

from apps.core.errors import InvalidInput

from .problems import Problem, normalize

# The largest row offset a list accepts: past any real table, and inside every database's range
# (a larger OFFSET is an error in PostgreSQL and an overflow in SQLite's driver).
MAX_OFFSET = 2**31 - 1


class Dialect:
    """One published API's wire format. Subclasses override the parts that differ."""

    name = "plain"
    renderer_classes = (JSONRenderer,)
    validation_status = 400

    # --- errors ----------------------------------------------------------------------------------
    def error_body(self, problem: Problem, request) -> dict:
        return {"detail": problem.summary()}

    def error_status(self, problem: Problem, request) -> int:
        if problem.is_validation and problem.status == 400:
            return self.validation_status
        return problem.status

    def error_response(self, problem: Problem, request) -> Response:
        response = Response(
            self.error_body(problem, request), status=self.error_status(problem, request), headers=problem.headers
        )
        response.dialect_final = True
        return response

    # --- success ---------------------------------------------------------------------------------
    def wrap(self, request, response: Response) -> Response:
        """Put a view's success data into the dialect's envelope (nothing to do for bare JSON)."""
        return response

    # --- outside a view (no route matched, errors raised by middleware) ---------------------------
    def select_renderer(self, request):
        return self.renderer_classes[0]()

    def render_problem(self, problem: Problem, request) -> Response:
        response = self.error_response(problem, request)
        renderer = self.select_renderer(request)
        response.accepted_renderer = renderer
        response.accepted_media_type = renderer.media_type
        response.renderer_context = {"request": request, "response": response}
        response.render()
        return response


PLAIN = Dialect()


class DialectMixin:
    """Mixed into a DRF view: its errors and success bodies take the dialect's shape."""

    dialect: Dialect = PLAIN
    # Where a ValidationError raised by this view came from, for error locations.
    validation_location = "body"

    def permission_denied(self, request, message=None, code=None):
        """A refusal because nobody is signed in is a 401, whatever credentials were sent."""
        from .permissions import NOT_SIGNED_IN_CODE

        if code == NOT_SIGNED_IN_CODE:
            raise NotAuthenticated(message)
        super().permission_denied(request, message=message, code=code)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and not getattr(response, "dialect_final", False):
            response = self.dialect.wrap(request, response)
            response.dialect_final = True
        return response


def parse_query(serializer_class, request) -> dict:
    """The validated query parameters, or an InvalidInput (location ``query``) naming each bad one.

    The parameters are read as plain values, not as an HTML form: a parameter that is present is
    validated even when empty (``?userID=`` is not a UUID), and only an absent one takes its default.
    A repeated parameter counts with its last value.
    """
    query = serializer_class(data={name: request.query_params.get(name) for name in request.query_params})
    if not query.is_valid():
        raise InvalidInput(errors={(name,): messages for name, messages in query.errors.items()}, location="query")
    return query.validated_data


def parse_body(serializer_class, request) -> dict:
    """The validated body, or the validation error each dialect answers in its own format."""
    form = serializer_class(data=request.data)
    form.is_valid(raise_exception=True)
    return form.validated_data


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error in the dialect of the view that raised it."""
    from .registry import dialect_for_path

    view = context.get("view")
    request = context.get("request")
    dialect = getattr(view, "dialect", None) or dialect_for_path(request.path_info) or PLAIN
    problem = normalize(exc, location=getattr(view, "validation_location", "body"))
    set_rollback()
    return dialect.error_response(problem, request)


def aimg_prefix() -> str:
    prefix = getattr(settings, "AIMG_URL_PREFIX", "").strip("/")
    return f"/{prefix}/" if prefix else "/"
