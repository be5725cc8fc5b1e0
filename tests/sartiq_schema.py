"""Wire-format checks against the Sartiq spec's JSON schemas (``tests/sartiq_schemas.json``).

The schemas are lifted from the spec's OpenAPI rendering:

- every "Schema of the request body" / "Schema of the response body" JSON block, by its ``title``
  (ShotTypeCreate, ShotTypePublic, BackgroundPresetUpdate, ...);
- the component tables of the "Schemas" annex for the components those blocks only reference
  (MediaInput, MediaResourcePublic, BackgroundPresetFramingPublic, ViewAngle, ...): a field whose type
  the table names gets that type (and is required in output components: ``*Public``, ``*Admin``,
  ...); a field the table leaves blank may be anything, null included. Enumerations the annex only
  calls ``Type: string`` are strings.

Regenerate the file after the spec changes::

    python -m tests.sartiq_schema PATH/TO/003_1df86d032260eb7d.txt > tests/sartiq_schemas.json

In tests::

    from tests.sartiq_schema import assert_matches

    assert_matches(response.json(), "ShotTypePublic")             # no field missing, none extra
    assert_matches(payload, "ShotTypeCreate", strict=False)        # a request body the spec accepts
"""

import copy
import json
import re
import sys
from functools import cache
from pathlib import Path

import jsonschema

SCHEMAS_FILE = Path(__file__).with_name("sartiq_schemas.json")
_BLOCK = re.compile(r"^Schema of the (request|response) body\s*$", re.M)
_COMPONENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)¶$")
# Output components of the annex: a field with a named type is always sent. Inputs (Create, Update,
# Input, Request, Body_...) may leave out fields that have defaults, which the tables do not show.
_OUTPUT_SUFFIXES = ("Public", "Admin", "Response", "Message", "Error")
_SIMPLE_TYPES = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "string(uuid)": {"type": "string", "format": "uuid"},
    "string(date-time)": {"type": "string", "format": "date-time"},
    "string(binary)": {"type": "string", "format": "binary"},
}


# --- validation -------------------------------------------------------------------------------------


@cache
def components() -> dict:
    return json.loads(SCHEMAS_FILE.read_text())


def schema_for(name: str, *, strict: bool = True) -> dict:
    """The named schema with every component it refers to; ``strict`` forbids fields the schema does
    not name (at every level), so a response has exactly the spec's fields."""
    defined = copy.deepcopy(components())
    if name not in defined:
        raise KeyError(f"{name} is not among the Sartiq schemas; known: {', '.join(sorted(defined))}")
    if strict:
        for schema in defined.values():
            _close(schema)
    root = copy.deepcopy(defined[name])
    root["components"] = {"schemas": defined}
    return root


def _close(schema) -> None:
    if isinstance(schema, dict):
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
        for value in schema.values():
            _close(value)
    elif isinstance(schema, list):
        for item in schema:
            _close(item)


def assert_matches(body, name: str, *, strict: bool = True) -> None:
    """AssertionError listing every way ``body`` breaks the named schema."""
    validator = jsonschema.Draft202012Validator(
        schema_for(name, strict=strict), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    problems = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
    if problems:
        lines = [f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}" for error in problems]
        raise AssertionError(f"The body does not match {name}:\n" + "\n".join(lines))


def assert_validation_error(body) -> None:
    """A FastAPI 422 body: ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``."""
    assert_matches(body, "HTTPValidationError")
    assert body["detail"], "a validation error names at least one problem"


# --- extraction from the spec ---------------------------------------------------------------------


def extract(text: str) -> dict:
    schemas = {}
    decoder = json.JSONDecoder()
    for match in _BLOCK.finditer(text):
        start = text.index("{", match.end())
        schema, _ = decoder.raw_decode(text, start)
        title = schema.get("title")
        if title and title not in schemas:
            schemas[title] = schema
    annex = text[text.rindex("\nSchemas¶") :]
    for name, schema in _annex_components(annex).items():
        schemas.setdefault(name, schema)
    schemas.setdefault(
        "ValidationError",
        {
            "type": "object",
            "required": ["loc", "msg", "type"],
            "properties": {
                "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                "msg": {"type": "string"},
                "type": {"type": "string"},
            },
        },
    )
    return dict(sorted(schemas.items()))


def _annex_components(annex: str) -> dict:
    lines = annex.splitlines()[2:]
    names = {m.group(1) for line in lines if (m := _COMPONENT.match(line))}
    out, index = {}, 0
    while index < len(lines):
        match = _COMPONENT.match(lines[index])
        index += 1
        if not match:
            continue
        name = match.group(1)
        if index < len(lines) and lines[index].startswith("Type: "):
            kind = lines[index][len("Type: ") :].strip()
            out[name] = dict(_SIMPLE_TYPES.get(kind, {}))
            index += 1
            continue
        if index + 1 < len(lines) and lines[index].startswith("| Name |"):
            index += 2
        properties, required = {}, []
        while index < len(lines) and not _COMPONENT.match(lines[index]):
            field = lines[index].rstrip()
            index += 1
            if not field.endswith(" |"):
                continue
            field_name = field[:-2].strip()
            kind = ""
            # Rows alternate: name, then type (the last type row of a table may be missing).
            if index < len(lines) and not _COMPONENT.match(lines[index]):
                kind = lines[index].strip().split("|", 1)[0].strip()
                index += 1
            schema = _field_schema(kind, names)
            properties[field_name] = schema
            if schema and name.endswith(_OUTPUT_SUFFIXES):
                required.append(field_name)
        out[name] = {"type": "object", "properties": properties, "required": required, "title": name}
    return out


def _field_schema(kind: str, names: set) -> dict:
    if kind in _SIMPLE_TYPES:
        return dict(_SIMPLE_TYPES[kind])
    if kind in names:
        return {"$ref": f"#/components/schemas/{kind}"}
    array = re.fullmatch(r"Array<(.+)>", kind)
    if array:
        return {"type": "array", "items": _field_schema(array.group(1), names) or {}}
    return {}


if __name__ == "__main__":
    print(json.dumps(extract(Path(sys.argv[1]).read_text()), indent=1, sort_keys=True))
