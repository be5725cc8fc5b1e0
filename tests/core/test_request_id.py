"""X-Request-ID: echoed when sane, made when absent or malformed, on every response; log records
carry it, and the JSON log format writes it as a field."""

import io
import json
import logging
import re

import pytest
from django.conf import settings
from django.http import JsonResponse
from django.urls import include, path
from django.utils.module_loading import import_string

from apps.core.context import current_request_id, request_id_var
from apps.core.logging import RequestIdFilter
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "X-Request-ID"
GENERATED = re.compile(r"^[0-9a-f]{32}$")
LOGGER = "tests.request_id"


def _logging_view(request):
    logging.getLogger(LOGGER).warning("handled %s", request.path)
    return JsonResponse({"ok": True})


urlpatterns = [
    path("test/log-something/", _logging_view),
    path("", include("config.urls")),
]


@pytest.mark.parametrize("value", ["abc-123", "7f1d9a3c-0e55-4c1b-9d43-6d2a1b0c9e10", "edge.proxy:42_x", "x" * 200])
def test_a_sane_request_id_is_echoed(api_client, value):
    response = api_client.get("/health/", HTTP_X_REQUEST_ID=value)
    assert response.status_code == 200
    assert response[HEADER] == value


def test_a_request_id_is_generated_when_absent(api_client):
    first = api_client.get("/health/")[HEADER]
    second = api_client.get("/health/")[HEADER]
    assert GENERATED.match(first)
    assert GENERATED.match(second)
    assert first != second


@pytest.mark.parametrize(
    "value",
    ["x" * 201, "has space", "semi;colon", "new\tline", "ünïcode", "<script>", ""],
    ids=["too-long", "space", "semicolon", "tab", "non-ascii", "markup", "empty"],
)
def test_a_malformed_request_id_is_replaced(api_client, value):
    response = api_client.get("/health/", HTTP_X_REQUEST_ID=value)
    assert response.status_code == 200
    assert GENERATED.match(response[HEADER])


def test_login_responses_carry_it(api_client):
    user = UserFactory()
    ok = api_client.post(
        "/api/v1/login/access-token", {"username": user.email, "password": PASSWORD}, HTTP_X_REQUEST_ID="login-1"
    )
    assert ok.status_code == 200
    assert ok[HEADER] == "login-1"
    refused = api_client.post("/api/v1/login/access-token", {"username": user.email, "password": "wrong"})
    assert refused.status_code == 400
    assert GENERATED.match(refused[HEADER])


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/no-such-thing", {"detail": "No endpoint at /api/v1/no-such-thing."}),
        ("/no-such-thing", {"hasError": True, "errorMessage": "No endpoint at /no-such-thing.", "payload": None}),
    ],
)
def test_unknown_urls_answer_404_with_it(client, url, body):
    response = client.get(url, HTTP_X_REQUEST_ID="lost-1")
    assert response.status_code == 404
    assert response[HEADER] == "lost-1"
    assert response.json() == body


def test_admin_pages_carry_it(client):
    response = client.get("/admin/login/", HTTP_X_REQUEST_ID="admin-1")
    assert response.status_code == 200
    assert response[HEADER] == "admin-1"


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []
        self.addFilter(RequestIdFilter())

    def emit(self, record):
        self.records.append(record)


@pytest.mark.urls(__name__)
def test_log_records_of_a_request_carry_its_id(client):
    handler = _Collect()
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    try:
        response = client.get("/test/log-something/", HTTP_X_REQUEST_ID="req-log-1")
        client.get("/test/log-something/")
    finally:
        logger.removeHandler(handler)

    assert response.status_code == 200
    assert [record.getMessage() for record in handler.records] == ["handled /test/log-something/"] * 2
    assert handler.records[0].request_id == "req-log-1"
    assert GENERATED.match(handler.records[1].request_id)
    # Once the request is over, nothing is left behind in the context.
    assert current_request_id() == "-"


def test_the_filter_keeps_an_explicit_request_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "msg", (), None)
    record.request_id = "given"
    token = request_id_var.set("ambient")
    try:
        assert RequestIdFilter().filter(record) is True
    finally:
        request_id_var.reset(token)
    assert record.request_id == "given"


def test_outside_a_request_the_filter_writes_a_dash():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "msg", (), None)
    RequestIdFilter().filter(record)
    assert record.request_id == "-"


def _configured(kind: str, name: str):
    """Build a formatter or filter from settings.LOGGING the way logging.config.dictConfig does."""
    config = dict(settings.LOGGING[kind][name])
    factory = config.pop("()", None)
    if factory is None:
        return logging.Formatter(config.get("format"))
    return import_string(factory)(**config)


def test_the_json_log_format_writes_one_json_object_per_line_with_the_request_id():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(_configured("filters", "request_id"))
    handler.setFormatter(_configured("formatters", "json"))
    logger = logging.getLogger("tests.json_format")
    logger.addHandler(handler)
    logger.propagate = False
    token = request_id_var.set("req-json-1")
    try:
        logger.warning("stored %d files for %s", 3, "alice")
    finally:
        request_id_var.reset(token)
        logger.removeHandler(handler)
        logger.propagate = True

    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert set(entry) == {"time", "level", "logger", "message", "request_id"}
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "tests.json_format"
    assert entry["message"] == "stored 3 files for alice"
    assert entry["request_id"] == "req-json-1"


def test_the_text_log_format_shows_the_request_id():
    formatter = _configured("formatters", "text")
    record = logging.LogRecord("tests.text", logging.INFO, __file__, 1, "hello", (), None)
    token = request_id_var.set("req-text-1")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    assert formatter.format(record).endswith(" INFO [req-text-1] tests.text: hello")
