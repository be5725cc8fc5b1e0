from django.utils.functional import SimpleLazyObject

from .context import clean_request_id, request_id_var
from .domains import domain_for_request

REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """Accepts (or makes) ``X-Request-ID``, exposes it to logging, echoes it on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = clean_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class DomainMiddleware:
    """``request.domain``: the site the request's host belongs to (resolved on first use)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.domain = SimpleLazyObject(lambda: domain_for_request(request))
        return self.get_response(request)
