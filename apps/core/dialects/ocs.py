"""Nextcloud OCS: ``{"ocs": {"meta", "data"}}`` in XML (default) or JSON, with v1 and v2 semantics.

v2 passes the HTTP status through (``statuscode`` = status); v1 answers HTTP 200 for everything but
401, with ``statuscode`` 100 for OK. As in Nextcloud, an unauthorised request carries statuscode
997, and v1 reports a missing resource as 998 and a server error as 996.
"""

import re
from xml.sax.saxutils import escape

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from apps.core.errors import PreconditionFailed

from .auth import AimgAuthentication, BearerTokenAuthentication, DomainBasicAuthentication
from .base import Dialect, DialectMixin
from .parsers import LimitedJSONParser

RESPOND_UNAUTHORISED = 997
RESPOND_NOT_FOUND = 998
RESPOND_SERVER_ERROR = 996


def api_version(request) -> int:
    return 1 if request.path_info.startswith("/ocs/v1.php") else 2


def envelope(data, *, http_status: int, version: int, message: str | None = None) -> tuple[dict, int]:
    """The OCS document and the HTTP status it travels with."""
    ok = 200 <= http_status < 300
    if version == 1:
        if ok:
            statuscode = 100
        elif http_status == 401:
            statuscode = RESPOND_UNAUTHORISED
        elif http_status == 404:
            statuscode = RESPOND_NOT_FOUND
        elif http_status >= 500:
            statuscode = RESPOND_SERVER_ERROR
        else:
            statuscode = http_status
        meta = {
            "status": "ok" if ok else "failure",
            "statuscode": statuscode,
            "message": "OK" if ok else (message or ""),
            "totalitems": "",
            "itemsperpage": "",
        }
        status = 401 if http_status == 401 else 200
    else:
        meta = {
            "status": "ok" if ok else "failure",
            "statuscode": RESPOND_UNAUTHORISED if http_status == 401 else http_status,
            "message": "OK" if ok else (message or ""),
        }
        status = http_status
    return {"ocs": {"meta": meta, "data": data if data is not None else []}}, status


# Characters XML 1.0 cannot carry, even escaped (most C0 controls, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_value(value) -> str:
    if value is True:
        return "1"
    if value is False or value is None:
        return ""
    return escape(_NOT_XML_CHAR.sub("\ufffd", str(value)))


def _to_xml(value, out: list, depth: int):
    pad = " " * depth
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        tag = "element" if isinstance(key, int) or str(key).isdigit() else str(key)
        if isinstance(item, (dict, list, tuple)):
            if item:
                out.append(f"{pad}<{tag}>\n")
                _to_xml(item, out, depth + 1)
                out.append(f"{pad}</{tag}>\n")
            else:
                out.append(f"{pad}<{tag}/>\n")
        elif item is None:
            out.append(f"{pad}<{tag}/>\n")
        else:
            out.append(f"{pad}<{tag}>{_xml_value(item)}</{tag}>\n")


class OcsXMLRenderer(BaseRenderer):
    """Nextcloud's XML: list entries are ``<element>``, booleans 1 or empty, null an empty tag."""

    media_type = "application/xml"
    format = "xml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        out = ['<?xml version="1.0"?>\n']
        _to_xml(data, out, 0)
        return "".join(out).encode(self.charset)


class OcsJSONRenderer(JSONRenderer):
    format = "json"


class OcsDialect(Dialect):
    name = "ocs"
    renderer_classes = (OcsXMLRenderer, OcsJSONRenderer)

    def error_response(self, problem, request) -> Response:
        data, status = envelope(
            None, http_status=problem.status, version=api_version(request), message=problem.summary()
        )
        response = Response(data, status=status, headers=problem.headers)
        response.dialect_final = True
        return response

    def wrap(self, request, response: Response) -> Response:
        response.data, response.status_code = envelope(
            response.data, http_status=response.status_code, version=api_version(request)
        )
        return response

    def select_renderer(self, request):
        renderer, _ = OcsContentNegotiation().select_renderer(
            _FormatRequest(request), [cls() for cls in self.renderer_classes]
        )
        return renderer


class OcsContentNegotiation(DefaultContentNegotiation):
    """Nextcloud's choice of format, which never refuses: the ``format`` parameter (``json`` or
    ``xml``) when given, else the first of JSON or XML the ``Accept`` header names, else XML.

    An unknown ``format`` or an ``Accept`` naming neither falls back to XML, as Nextcloud's OCS
    middleware does, instead of DRF's 406. A view with renderers of its own (an image) keeps DRF's
    negotiation for them.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        by_format = {renderer.format: renderer for renderer in renderers}
        if not {"json", "xml"} <= set(by_format):
            return super().select_renderer(request, renderers, format_suffix)
        wanted = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE or "format")
        if wanted not in by_format:
            wanted = "xml"
            for media_range in request.META.get("HTTP_ACCEPT", "").split(","):
                media_type = media_range.split(";", 1)[0].strip().lower()
                if media_type in ("application/json", "text/json"):
                    wanted = "json"
                    break
                if media_type in ("application/xml", "text/xml"):
                    break
        renderer = by_format[wanted]
        return renderer, renderer.media_type


class _FormatRequest:
    """A plain Django request seen the way DRF's negotiation expects (query_params, META)."""

    def __init__(self, request):
        self._request = request
        self.query_params = request.GET
        self.META = request.META


OCS = OcsDialect()


class OcsMixin(DialectMixin):
    dialect = OCS
    renderer_classes = OCS.renderer_classes
    content_negotiation_class = OcsContentNegotiation
    # Nextcloud reads a request's parameters from form fields, JSON or the query string.
    parser_classes = (LimitedJSONParser, FormParser, MultiPartParser)
    authentication_classes = (BearerTokenAuthentication, DomainBasicAuthentication, AimgAuthentication)
    pagination_class = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not hasattr(self, request.method.lower()):
            return  # a method the view does not have: the 405 comes first, as in Nextcloud
        carries_bearer = request.headers.get("Authorization", "").lower().startswith("bearer ")
        if request.headers.get("OCS-APIRequest", "").lower() != "true" and not carries_bearer:
            raise self.csrf_failure()

    def csrf_failure(self) -> Exception:
        """The refusal of a request without ``OCS-APIRequest: true`` and without a bearer token."""
        return PreconditionFailed("CSRF check failed: send the header 'OCS-APIRequest: true'.")


class OcsView(OcsMixin, APIView):
    """Base class of OCS views."""


class OcsViewSet(OcsMixin, GenericViewSet):
    """Base class of OCS ViewSets."""
