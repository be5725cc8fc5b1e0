"""Fixtures of the style tests."""

import http.server
import threading

import pytest
from django.core.files.storage import default_storage

from apps.core.media import STUDIO_MEDIA
from tests.factories import UserFactory

from .support import Caller, png


@pytest.fixture(autouse=True)
def storage(settings):
    """A fresh in-memory default storage for each test."""
    settings.STORAGES = {**settings.STORAGES}
    return default_storage


@pytest.fixture
def alice():
    return Caller(UserFactory())


@pytest.fixture
def bob():
    return Caller(UserFactory())


@pytest.fixture
def admin():
    return Caller(UserFactory(is_staff=True, is_superuser=True))


@pytest.fixture
def anonymous():
    return Caller()


IMAGE_HOST = "127.0.0.2"


class _Images(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/huge.png":  # announces more than any studio image may have
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(STUDIO_MEDIA.max_bytes + 1))
            self.end_headers()
            return
        if self.path != "/cover.png":
            self.send_error(404)
            return
        content = png()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, *args):
        pass


@pytest.fixture
def image_server(settings):
    """An image server on a private address that the safe fetch is allowed to reach."""
    server = http.server.ThreadingHTTPServer((IMAGE_HOST, 0), _Images)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    port = server.server_address[1]
    settings.SAFE_FETCH_ALLOWED_NETWORKS = [f"{IMAGE_HOST}/32"]
    settings.SAFE_FETCH_EXTRA_PORTS = [port]
    yield f"http://{IMAGE_HOST}:{port}"
    server.shutdown()
    server.server_close()
