"""OpenAPI security schemes for the credentials the dialects accept.

drf-spectacular finds these extensions by the authentication class a view uses. The schemes are
also added to every generated schema (``add_security_schemes``), so /api/docs/ documents all four
credentials even while no operation of a dialect is published yet.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from .dialects.auth import ADMIN_KEY_HEADER, SESSION_HEADER

SESSION_SCHEME = "sessionId"
ADMIN_KEY_SCHEME = "administrationKey"
BEARER_SCHEME = "bearerAuth"
BASIC_SCHEME = "basicAuth"

SECURITY_SCHEMES = {
    SESSION_SCHEME: {
        "type": "apiKey",
        "in": "header",
        "name": SESSION_HEADER,
        "description": "AIMG API session: the UUID of a session the server created (guest or signed in).",
    },
    ADMIN_KEY_SCHEME: {
        "type": "apiKey",
        "in": "header",
        "name": ADMIN_KEY_HEADER,
        "description": "AIMG administration key; the request acts as the key's staff owner.",
    },
    BEARER_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "description": "Access token from POST /api/v1/login/access-token (Sartiq, Neuroflash, OCS).",
    },
    BASIC_SCHEME: {
        "type": "http",
        "scheme": "basic",
        "description": "Email (or username) and password of a user of the request's domain (OCS).",
    },
}


class AimgAuthenticationScheme(OpenApiAuthenticationExtension):
    """``X-Session-ID`` or ``X-Administration-Key``: either one alone is enough."""

    target_class = "apps.core.dialects.auth.AimgAuthentication"
    match_subclasses = True
    name = [SESSION_SCHEME, ADMIN_KEY_SCHEME]

    def get_security_requirement(self, auto_schema):
        return [{SESSION_SCHEME: []}, {ADMIN_KEY_SCHEME: []}]

    def get_security_definition(self, auto_schema):
        return [SECURITY_SCHEMES[SESSION_SCHEME], SECURITY_SCHEMES[ADMIN_KEY_SCHEME]]


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.core.dialects.auth.BearerTokenAuthentication"
    match_subclasses = True
    name = BEARER_SCHEME

    def get_security_definition(self, auto_schema):
        return SECURITY_SCHEMES[BEARER_SCHEME]


class DomainBasicScheme(OpenApiAuthenticationExtension):
    target_class = "apps.core.dialects.auth.DomainBasicAuthentication"
    match_subclasses = True
    name = BASIC_SCHEME

    def get_security_definition(self, auto_schema):
        return SECURITY_SCHEMES[BASIC_SCHEME]


def add_security_schemes(result, generator, request, public):
    """Postprocessing hook: every credential Atelier accepts is listed in components."""
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    for name, definition in SECURITY_SCHEMES.items():
        schemes.setdefault(name, dict(definition))
    return result
