"""The engine behind AIMG ``pgQuery``: one read-only statement, answered in node-pg's result shape.

It is never a raw door into the database:
- its own connection (``PGQUERY_DATABASE_URL``, ideally a read-only role), never Django's;
- a ``READ ONLY`` transaction that is always rolled back;
- the statement is sent through the extended query protocol (prepared), so the server refuses more
  than one statement: ``COMMIT; DROP …`` cannot escape the transaction;
- ``statement_timeout`` and a row cap.
"""

import datetime
import decimal
import json
import time
import uuid
from dataclasses import dataclass

from django.conf import settings

from apps.core.errors import InvalidInput, RequestTimeout, ServiceUnavailable

# node-pg returns these types as strings (their values do not fit a JavaScript number).
_AS_STRING_TYPES = {"int8", "numeric", "money"}


@dataclass
class QueryResult:
    command: str
    row_count: int | None
    rows: list[dict]
    fields: list[dict]
    truncated: bool

    def as_pg(self) -> dict:
        return {"command": self.command, "rowCount": self.row_count, "rows": self.rows, "fields": self.fields}


def database_url() -> str:
    url = getattr(settings, "PGQUERY_DATABASE_URL", "")
    if url:
        return url
    from django.db import connections

    db = connections["default"].settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise ServiceUnavailable("pgQuery needs a PostgreSQL database.")
    parts = {
        "host": db.get("HOST") or "",
        "port": str(db.get("PORT") or ""),
        "dbname": db.get("NAME") or "",
        "user": db.get("USER") or "",
        "password": db.get("PASSWORD") or "",
    }
    return " ".join(f"{key}='{_conninfo_quote(value)}'" for key, value in parts.items() if value)


def _conninfo_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _to_json(value, type_name: str):
    if value is None:
        return None
    if type_name in _AS_STRING_TYPES:
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [_to_json(item, "") for item in value]
    if isinstance(value, (str, int, float, bool, dict)):
        return value
    return json.loads(json.dumps(value, default=str))


def _param(value):
    """A JSON parameter as PostgreSQL receives it from node-pg: objects as JSON text."""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


def run_read_only(query_text: str, params: list) -> QueryResult:
    import psycopg
    from psycopg import sql

    max_rows = int(getattr(settings, "PGQUERY_MAX_ROWS", 1000))
    timeout_ms = int(getattr(settings, "PGQUERY_STATEMENT_TIMEOUT_MS", 5000))
    try:
        conn = psycopg.connect(database_url(), autocommit=False, connect_timeout=5, cursor_factory=psycopg.RawCursor)
    except psycopg.OperationalError as exc:
        raise ServiceUnavailable("The database for pgQuery is not reachable.") from exc
    started = time.monotonic()
    try:
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(timeout_ms)))
            # A first query pins the transaction's mode: "SET TRANSACTION READ WRITE" now fails.
            cursor.execute("SELECT 1")
            try:
                cursor.execute(query_text, [_param(p) for p in params], prepare=True)
            except psycopg.errors.QueryCanceled as exc:
                raise RequestTimeout(f"The query was stopped after {timeout_ms} ms (statement timeout).") from exc
            except psycopg.Error as exc:
                message = (exc.diag.message_primary or str(exc)).strip()
                raise InvalidInput(f"The query failed: {message}") from exc
            fields, rows, truncated = [], [], False
            if cursor.description is not None:
                type_names = []
                for column in cursor.description:
                    info = conn.adapters.types.get(column.type_code)
                    type_names.append(info.name if info else "")
                    fields.append({"name": column.name, "dataTypeID": column.type_code})
                fetched = cursor.fetchmany(max_rows + 1)
                truncated = len(fetched) > max_rows
                for record in fetched[:max_rows]:
                    rows.append(
                        {
                            col["name"]: _to_json(value, type_names[i])
                            for i, (col, value) in enumerate(zip(fields, record, strict=True))
                        }
                    )
            status = (cursor.statusmessage or "").split(" ")
            command = status[0] if status and status[0] else ""
            row_count = (
                len(rows) if cursor.description is not None else (cursor.rowcount if cursor.rowcount >= 0 else None)
            )
    finally:
        try:
            conn.rollback()
        finally:
            conn.close()
    result = QueryResult(command=command, row_count=row_count, rows=rows, fields=fields, truncated=truncated)
    result.duration_ms = round((time.monotonic() - started) * 1000, 1)
    return result
