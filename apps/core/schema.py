"""OpenAPI security schemes for the credentials the dialects accept.

drf-spectacular finds these extensions by the authentication class a view uses. The schemes are
also added to every generated schema (``add_security_schemes``), so /api/docs/ documents all four
credentials even while no operation of a dialect is published yet.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions as drf_permissions
from rest_framework import serializers

from .dialects.aimg import PAGINATION_METADATA_SCHEMA
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


def requires_sign_in(permission) -> bool:
    """Whether a permission instance refuses callers who are not signed in."""
    marked = getattr(permission, "requires_sign_in", None)
    if marked is not None:
        return bool(marked)
    if isinstance(permission, (drf_permissions.IsAuthenticated, drf_permissions.IsAdminUser)):
        return True
    operands = [getattr(permission, name, None) for name in ("op1", "op2")]
    if all(operands):  # DRF's composed permissions (AND / OR)
        if permission.__class__.__name__ == "OR":
            return all(requires_sign_in(op) for op in operands)
        return any(requires_sign_in(op) for op in operands)
    return False


class DialectAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, told what the dialect kernel enforces.

    - Operations open to callers without credentials (guests, sign-up, public lists) list the empty
      security requirement ``{}`` beside the credentials they accept, so clients and fuzzers know
      a credential is optional there. A view that checks sign-in inside its handler says so with
      ``schema_requires_sign_in = True``.
    - A list that may not be empty (``allow_empty=False``) documents ``minItems: 1``.
    """

    def get_auth(self):
        auths = super().get_auth()
        if getattr(self.view, "schema_requires_sign_in", False):
            return [auth for auth in auths if auth]
        if {} in auths or not auths:
            return auths
        if not any(requires_sign_in(permission) for permission in self.view.get_permissions()):
            auths.append({})
        return auths

    def _get_format_parameters(self):
        parameters = super()._get_format_parameters()
        if getattr(self.view, "content_negotiation_class", None) is not None and dialect_of_path(self.path) == "ocs":
            # OCS never refuses a format: json, xml, or XML for anything else (Nextcloud's rule).
            for parameter in parameters:
                parameter["schema"].pop("enum", None)
                parameter["description"] = "json or xml (any other value, or none without an Accept header: XML)."
        return parameters

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and isinstance(schema, dict)
            and schema.get("nullable")
            and not getattr(field, "allow_null", True)
        ):
            # An input field class documented once as nullable (MediaInputField) used where null is refused.
            schema = {key: value for key, value in schema.items() if key != "nullable"}
        if (
            direction == "request"
            and isinstance(field, (serializers.ListField, serializers.ListSerializer, serializers.ManyRelatedField))
            and not getattr(field, "allow_empty", True)
            and isinstance(schema, dict)
            and schema.get("type") == "array"
        ):
            schema["minItems"] = max(1, schema.get("minItems", 0))
        return schema


def add_security_schemes(result, generator, request, public):
    """Postprocessing hook: every credential Atelier accepts is listed in components."""
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    for name, definition in SECURITY_SCHEMES.items():
        schemes.setdefault(name, dict(definition))
    return result


# --- wire formats --------------------------------------------------------------------------------
# Views declare what they answer (the payload); each dialect wraps it on the wire and answers its
# own errors. This hook documents exactly that, so the schema matches what clients receive: the
# AIMG envelope and the OCS document around 2xx JSON bodies, and every error status a dialect's
# kernel can answer for the operation, each with that dialect's error body.

WIRE_COMPONENTS = {
    "PlainError": {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}},
    "AimgError": {
        "type": "object",
        "required": ["hasError", "errorMessage", "payload"],
        "properties": {
            "hasError": {"type": "boolean", "enum": [True]},
            "errorMessage": {"type": "string"},
            "errorCode": {"type": "integer"},
            "payload": {"type": "object", "nullable": True, "enum": [None]},
        },
    },
    "SartiqError": {
        "type": "object",
        "required": ["detail"],
        "properties": {
            "detail": {
                "oneOf": [
                    {"type": "string"},
                    {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["loc", "msg", "type"],
                            "properties": {
                                "loc": {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]}},
                                "msg": {"type": "string"},
                                "type": {"type": "string"},
                            },
                        },
                    },
                ]
            }
        },
    },
    "NeuroflashError": {
        "type": "object",
        "required": ["timestamp", "status", "error", "message", "path"],
        "properties": {
            "timestamp": {"type": "string", "format": "date-time"},
            "status": {"type": "integer"},
            "error": {"type": "string"},
            "message": {"type": "string"},
            "path": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    },
    "OcsMeta": {
        "type": "object",
        "required": ["status", "statuscode", "message"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "failure"]},
            "statuscode": {"type": "integer"},
            "message": {"type": "string"},
            "totalitems": {"type": "string"},
            "itemsperpage": {"type": "string"},
        },
    },
    "OcsError": {
        "type": "object",
        "required": ["ocs"],
        "properties": {
            "ocs": {
                "type": "object",
                "required": ["meta", "data"],
                "properties": {"meta": {"$ref": "#/components/schemas/OcsMeta"}, "data": {}},
            }
        },
    },
}
# Error statuses every operation of a dialect can answer (its kernel's authentication, permission,
# parsing, limits and lookups); 413 only where a body is read.
DIALECT_ERRORS = {
    "aimg": ("AimgError", (400, 401, 403, 404, 405, 429)),
    "sartiq": ("SartiqError", (400, 401, 403, 404, 405, 422, 429)),
    "neuroflash": ("NeuroflashError", (400, 401, 403, 404, 405, 429)),
    "ocs": ("OcsError", (400, 401, 403, 404, 405, 412, 429)),
    # Operations outside the four APIs (the health check): bare JSON, errors as {"detail": ...}.
    "plain": ("PlainError", (405,)),
}
ERROR_DESCRIPTIONS = {
    400: "The request is invalid.",
    401: "Not signed in.",
    403: "Not allowed.",
    404: "Not found.",
    405: "Method not allowed.",
    409: "Conflict.",
    412: "CSRF check failed (OCS requests need OCS-APIRequest: true or a bearer token).",
    413: "The request body is too large.",
    422: "Validation error.",
    429: "Too many requests.",
    503: "Temporarily unavailable (the job queue or the media store cannot be reached); nothing was done.",
    507: "The media store is full; nothing was stored.",
}


PLAIN_PATHS = ("/health/",)


def dialect_of_path(path: str) -> str:
    if path.startswith(PLAIN_PATHS):
        return "plain"
    if path.startswith("/api/v1/"):
        return "sartiq"
    if path.startswith("/ocs/"):
        return "ocs"
    if path.startswith("/api/image-service/"):
        return "neuroflash"
    return "aimg"


def _require_body_with_required_fields(operation: dict, components: dict) -> None:
    """A body whose schema has required fields cannot be left out: say so (``required: true``)."""
    body = operation.get("requestBody")
    if not body or body.get("required"):
        return
    for media in body.get("content", {}).values():
        schema = media.get("schema", {})
        if "$ref" in schema:
            schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
        if schema.get("required"):
            body["required"] = True
            return


def _is_aimg_envelope(schema: dict, components: dict) -> bool:
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return "hasError" in schema.get("properties", {})


def _wrap_success(dialect: str, schema: dict, components: dict) -> dict:
    if dialect == "aimg" and not _is_aimg_envelope(schema, components):
        return {
            "type": "object",
            "required": ["hasError", "errorMessage", "payload"],
            "properties": {
                "hasError": {"type": "boolean", "enum": [False]},
                "errorMessage": {"type": "string", "nullable": True},
                "payload": schema,
                "metadata": PAGINATION_METADATA_SCHEMA,
            },
        }
    if dialect == "ocs" and "ocs" not in schema.get("properties", {}):
        return {
            "type": "object",
            "required": ["ocs"],
            "properties": {
                "ocs": {
                    "type": "object",
                    "required": ["meta", "data"],
                    "properties": {"meta": {"$ref": "#/components/schemas/OcsMeta"}, "data": schema},
                }
            },
        }
    return schema


def document_wire_formats(result, generator, request, public):
    """Postprocessing hook: wrap 2xx JSON bodies as each dialect sends them and add its errors."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in WIRE_COMPONENTS.items():
        components.setdefault(name, definition)
    for path, operations in result.get("paths", {}).items():
        dialect = dialect_of_path(path)
        error_component, statuses = DIALECT_ERRORS[dialect]
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code, response in responses.items():
                if not str(code).startswith("2"):
                    continue
                content = response.get("content", {})
                if "application/json" in content:
                    media = content["application/json"]
                    media["schema"] = _wrap_success(dialect, media.get("schema", {}), components)
                    if dialect == "ocs":
                        content.setdefault("application/xml", {"schema": {"type": "string"}})
            _require_body_with_required_fields(operation, components)
            wanted = [*statuses, 503]  # a dependency down: the broker, the store
            if "requestBody" in operation:
                wanted += [413, 507]  # too large; the store is full
            error_content = {"schema": {"$ref": f"#/components/schemas/{error_component}"}}
            for status in sorted(wanted):
                key = str(status)
                if key in responses:
                    existing = responses[key].setdefault("content", {})
                    existing.setdefault("application/json", error_content)
                    continue
                responses[key] = {
                    "description": ERROR_DESCRIPTIONS[status],
                    "content": {"application/json": dict(error_content)},
                }
                if dialect == "ocs":
                    responses[key]["content"]["application/xml"] = {"schema": {"type": "string"}}
            for code, response in responses.items():  # errors a view declares itself (409, 503…)
                if str(code)[0] in "45" and not response.get("content"):
                    response["content"] = {"application/json": dict(error_content)}
    return result
