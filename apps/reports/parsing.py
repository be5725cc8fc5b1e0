"""The exact forms the reports endpoints accept for ids, lists and dates, and their schemas.

Each parser accepts exactly what its published pattern describes, so the OpenAPI document and the
server agree on what is valid (the schema fuzzer holds them to it).
"""

import re
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

from apps.core.dialects.fields import UUID_PATTERN

UUID_RE = UUID_PATTERN
UUID_ITEM_PATTERN = rf"^\s*{UUID_RE}\s*$"
UUID_LIST_PATTERN = rf"^\s*{UUID_RE}\s*(,\s*{UUID_RE}\s*)*$"
_UUID = re.compile(UUID_ITEM_PATTERN)
_UUID_LIST = re.compile(UUID_LIST_PATTERN)

# A list of one or more names, none of them blank.
NAME_LIST_PATTERN = r"^[^,]*[^,\s][^,]*(,[^,]*[^,\s][^,]*)*$"
_NAME_LIST = re.compile(NAME_LIST_PATTERN)

DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
DATE_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)
#: The schema of a date filter: an RFC 3339 date or date-time.
DATE_OR_DATE_TIME_SCHEMA = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}


class Invalid(Exception):
    pass


def uuid_list(value: str, *, what: str, limit: int) -> list[uuid.UUID]:
    """A comma-separated list of UUIDs (blanks around each ignored), 1 to ``limit`` of them."""
    if not _UUID_LIST.match(value):
        if not value.strip():
            raise Invalid(f"Give at least one {what} id.")
        bad = next((part.strip() for part in value.split(",") if not _UUID.match(part)), value)
        raise Invalid(f"'{bad[:64]}' is not a valid {what} id (a UUID).")
    return _limited([uuid.UUID(part.strip()) for part in value.split(",")], what=what, limit=limit)


def uuid_array(values: list, *, what: str, limit: int) -> list[uuid.UUID]:
    """A JSON array of UUID strings, 1 to ``limit`` of them."""
    ids = []
    for value in values:
        if not isinstance(value, str):
            raise Invalid(f"Each {what} id must be a string (a UUID).")
        if not _UUID.match(value):
            raise Invalid(f"'{value.strip()[:64]}' is not a valid {what} id (a UUID).")
        ids.append(uuid.UUID(value.strip()))
    if not ids:
        raise Invalid(f"Give at least one {what} id.")
    return _limited(ids, what=what, limit=limit)


def _limited(ids: list, *, what: str, limit: int) -> list:
    if len(ids) > limit:
        raise Invalid(f"Give at most {limit} {what} ids per request.")
    return ids


def name_list(value: str) -> list[str]:
    """A comma-separated list of one or more names (blanks around each ignored)."""
    if not _NAME_LIST.match(value):
        raise Invalid("Give one or more comma-separated values, none of them empty.")
    return [part.strip() for part in value.split(",")]


def date_bound(value: str) -> tuple[datetime, bool]:
    """``(moment, whole_day)`` of an RFC 3339 date (its midnight UTC, ``whole_day`` true) or
    date-time (any offset; a fraction beyond microseconds is cut, a leap second read as :59)."""
    text = value.strip()
    try:
        if match := DATE_RE.match(text):
            year, month, day = (int(part) for part in match.groups())
            return datetime.combine(date(year, month, day), datetime.min.time(), tzinfo=UTC), True
        if match := DATE_TIME_RE.match(text):
            year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
            fraction, zulu, sign, off_hours, off_minutes = match.groups()[6:]
            micro = int((fraction or "0")[:6].ljust(6, "0"))
            offset = timedelta(0)
            if not zulu:
                offset = timedelta(hours=int(off_hours), minutes=int(off_minutes))
                if offset >= timedelta(hours=24):
                    raise Invalid("The UTC offset must be less than 24 hours.")
                offset = -offset if sign == "-" else offset
            moment = datetime(year, month, day, hour, minute, min(second, 59), micro, tzinfo=timezone(offset))
            try:
                return moment.astimezone(UTC), False
            except OverflowError:  # an offset pushes it past the first or last moment a date can hold
                return (datetime.min if year == 1 else datetime.max).replace(tzinfo=UTC), False
    except ValueError as exc:
        raise Invalid("Give a real date: this one does not exist.") from exc
    raise Invalid("Give an ISO 8601 (RFC 3339) date or date-time, e.g. 2025-01-31 or 2025-01-31T12:00:00Z.")
