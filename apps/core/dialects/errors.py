"""Django's handler400/403/404/500: errors outside any view, in the dialect of the path."""

from django.views import defaults

from .problems import Problem, normalize, server_error_problem
from .registry import dialect_for_path


def _render(request, problem: Problem, fallback):
    dialect = dialect_for_path(request.path_info)
    if dialect is None:
        return fallback()
    return dialect.render_problem(problem, request)


def bad_request(request, exception=None):
    return _render(
        request,
        Problem(400, "The request is invalid.", "invalid"),
        lambda: defaults.bad_request(request, exception),
    )


def permission_denied(request, exception=None):
    problem = normalize(exception) if exception is not None else Problem(403, "Forbidden", "permission_denied")
    return _render(request, problem, lambda: defaults.permission_denied(request, exception))


def page_not_found(request, exception=None):
    return _render(
        request,
        Problem(404, f"No endpoint at {request.path}.", "not_found"),
        lambda: defaults.page_not_found(request, exception),
    )


def server_error(request):
    return _render(request, server_error_problem(), lambda: defaults.server_error(request))
