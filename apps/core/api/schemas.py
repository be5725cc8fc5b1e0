"""Building blocks of the payload schemas views declare as OpenAPI dicts (``responses={200: {...}}``).

drf-spectacular takes a dict as the response schema as it is: no component, no list or pagination
wrapping (the AIMG envelope and its ``metadata`` are added by ``apps.core.schema``). Each app keeps
the schemas of its payloads in ``api/schemas.py``, derived from the function that builds them.
"""

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
UUID = {"type": "string", "format": "uuid"}
DATE_TIME = {"type": "string", "format": "date-time"}
MILLIS = {"type": "integer", "description": "UNIX time in milliseconds."}
ANY = {}


def nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def enum(values) -> dict:
    return {"type": "string", "enum": list(values)}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


def obj(required: dict, optional: dict | None = None, *, description: str = "") -> dict:
    """An object with exactly these keys: ``required`` always present, ``optional`` sometimes."""
    schema = {"type": "object"}
    if description:
        schema["description"] = description
    if required:
        schema["required"] = list(required)
    schema["properties"] = {**required, **(optional or {})}
    schema["additionalProperties"] = False
    return schema


STRINGS = array(STRING)
UUIDS = array(UUID)
