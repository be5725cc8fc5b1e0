"""Helpers for the Sartiq catalogue tests: users and organizations, images, an image server."""

import base64
import http.server
import io
import threading

import pytest
from PIL import Image
from rest_framework.test import APIClient

from apps.accounts import services
from apps.accounts.models import Membership
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

PUBLIC_HOST = "127.0.0.2"  # counts as public once SAFE_FETCH_ALLOWED_NETWORKS names it
PRIVATE_HOST = "127.0.0.1"


def client_for(user=None) -> APIClient:
    """A client signed in as ``user`` with a bearer token (anonymous without one)."""
    client = APIClient(raise_request_exception=False)
    if user is not None:
        _, secret = services.issue_access_token(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def member(organization, role: str = Membership.Role.MEMBER, user=None):
    user = user or UserFactory()
    MembershipFactory(organization=organization, user=user, role=role)
    return user


def organization_with_owner():
    organization = OrganizationFactory()
    return organization, member(organization, Membership.Role.OWNER)


def image_bytes(width: int = 32, height: int = 24, color=(200, 30, 30), fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, fmt)
    return buffer.getvalue()


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def data_uri(content: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{b64(content)}"


class ImageServer:
    """A threaded HTTP server that answers ``routes[path] = (status, content_type, body)``."""

    def __init__(self, host: str):
        routes = self.routes = {}
        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def do_GET(self):
                hits.append(self.path)
                status, content_type, body = routes.get(self.path, (404, "text/plain", b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # the fetcher hangs up early on oversized bodies

        self.server = Server((host, 0), Handler)
        self.host, self.port = host, self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def serve(self, path: str, body: bytes, content_type: str = "image/png", status: int = 200) -> str:
        self.routes[path] = (status, content_type, body)
        return self.url(path)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def image_servers():
    public, private = ImageServer(PUBLIC_HOST), ImageServer(PRIVATE_HOST)
    yield public, private
    public.stop()
    private.stop()


@pytest.fixture
def image_server(image_servers, settings):
    """The server on 127.0.0.2, allowed as public; the one on 127.0.0.1 stays private."""
    public, private = image_servers
    settings.SAFE_FETCH_ALLOWED_NETWORKS = [f"{PUBLIC_HOST}/32"]
    settings.SAFE_FETCH_EXTRA_PORTS = [public.port, private.port]
    public.routes.clear()
    private.routes.clear()
    public.hits.clear()
    private.hits.clear()
    return public


@pytest.fixture
def private_server(image_server, image_servers):
    return image_servers[1]


def assert_validation(response, loc: list, *, contains: str = "") -> dict:
    """A 422 whose detail names ``loc`` (and ``contains`` in its message); returns that error."""
    from tests.sartiq_schema import assert_validation_error

    assert response.status_code == 422, (response.status_code, response.content[:500])
    body = response.json()
    assert_validation_error(body)
    matching = [error for error in body["detail"] if error["loc"] == loc]
    assert matching, f"no error at {loc}: {body['detail']}"
    assert contains in matching[0]["msg"], matching[0]["msg"]
    return matching[0]
