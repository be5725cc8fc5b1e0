"""Helpers of the OCS text2image / textprocessing tests: requests in the wire formats, XML parsing,
credentials, a fake OpenAI-compatible server and a failing generation provider (the fixtures are in
conftest.py)."""

from __future__ import annotations

import base64
import json
import threading
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rest_framework.test import APIClient

from apps.accounts import services as accounts
from apps.core.domains import default_domain
from apps.text2image.providers.base import ProviderError
from apps.text2image.providers.procedural import ProceduralProvider
from tests.factories import PASSWORD

OCS_HEADER = {"HTTP_OCS_APIREQUEST": "true"}
PREFIXES = {1: "/ocs/v1.php", 2: "/ocs/v2.php"}
FREE_PROMPT = "OCP\\TextProcessing\\FreePromptTaskType"
SUMMARY = "OCP\\TextProcessing\\SummaryTaskType"
HEADLINE = "OCP\\TextProcessing\\HeadlineTaskType"
TOPICS = "OCP\\TextProcessing\\TopicsTaskType"
TEXT2IMAGE_TASK_KEYS = [
    "id",
    "status",
    "userId",
    "appId",
    "numberOfImages",
    "input",
    "identifier",
    "completionExpectedAt",
]
TEXT_TASK_KEYS = ["id", "type", "status", "userId", "appId", "input", "output", "identifier", "completionExpectedAt"]
ARTICLE = (
    "The city council approved a new budget for public libraries on Tuesday. "
    "The budget adds funding for longer opening hours and for new children's books. "
    "Library visitors had asked for evening hours for years. "
    "Council members said public libraries are important places for learning and community. "
    "The new opening hours start in March, and the libraries will hire ten more librarians. "
    "Some members wanted to spend the money on roads instead, but the library budget passed easily."
)


def api() -> APIClient:
    return APIClient(raise_request_exception=False)


def url(version: int, path: str) -> str:
    return f"{PREFIXES[version]}/{path.lstrip('/')}"


def basic(login: str, password: str = PASSWORD) -> dict:
    token = base64.b64encode(f"{login}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def basic_for(user, password: str = PASSWORD) -> dict:
    return basic(user.email, password)


def bearer_for(user) -> dict:
    _, secret = accounts.issue_access_token(user=user)
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def session_for(user=None) -> dict:
    session = accounts.create_session(domain=default_domain(), user=user)
    return {"HTTP_X_SESSION_ID": str(session.pk)}


def app_password_for(user) -> dict:
    _, secret = accounts.create_app_password(user=user, name="phone")
    return basic(user.username, secret)


def ocs_json(response) -> dict:
    """The ``ocs`` object of a JSON response."""
    assert response["Content-Type"] == "application/json", response.content[:300]
    body = response.json()
    assert list(body) == ["ocs"]
    assert list(body["ocs"]) == ["meta", "data"]
    return body["ocs"]


def xml_value(element: ET.Element):
    """An OCS XML element as Python: children with tags → dict (``element`` children → list)."""
    children = list(element)
    if not children:
        return element.text
    if all(child.tag == "element" for child in children):
        return [xml_value(child) for child in children]
    return {child.tag: xml_value(child) for child in children}


def ocs_xml(response) -> tuple[list, ET.Element]:
    """(meta as [(tag, text)], the data element) of an XML response."""
    assert response["Content-Type"] == "application/xml; charset=utf-8", response.content[:300]
    root = ET.fromstring(response.content)  # noqa: S314 (our own test server's document)
    assert root.tag == "ocs"
    assert [child.tag for child in root] == ["meta", "data"]
    return [(child.tag, child.text) for child in root.find("meta")], root.find("data")


def v2_meta(status: int, message: str = "OK") -> dict:
    return {"status": "ok" if status < 300 else "failure", "statuscode": status, "message": message}


def v1_meta(statuscode: int, message: str = "OK") -> dict:
    return {
        "status": "ok" if statuscode == 100 else "failure",
        "statuscode": statuscode,
        "message": message,
        "totalitems": "",
        "itemsperpage": "",
    }


# --- a fake OpenAI-compatible server ------------------------------------------------------------


class FakeLanguageModel:
    """Records the chat-completion requests it gets and answers each with ``reply`` (a callable
    (request body) -> (status, JSON body))."""

    def __init__(self):
        self.requests: list[dict] = []
        self.reply = lambda body: (200, completion(f"echo: {body['messages'][-1]['content']}"))
        self.base_url = ""


def completion(text: str) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "fake-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }


@contextmanager
def fake_language_model():
    fake = FakeLanguageModel()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status, answer = fake.reply(body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="fake-openai", daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- a provider that always fails -----------------------------------------------------------------


class FailingProvider(ProceduralProvider):
    """Stands in for the procedural provider (GENERATION_PROVIDERS) to make generations fail."""

    def generate(self, request, *, progress=None):
        raise ProviderError("The GPU caught fire.")
