"""Helpers of the failure drills (test_failure_drills.py): a broker that is down or silent, media
stores that are full or unreachable, a server that accepts connections and never answers, and the
real WSGI request cycle (connection handling included)."""

from __future__ import annotations

import errno
import io
import socket
import threading
from contextlib import contextmanager

import kombu.pools
from botocore.exceptions import EndpointConnectionError
from django.core.files.storage import InMemoryStorage
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory

from config.celery_app import app as celery_app

# Nothing listens on port 1 of the loopback: connections are refused at once.
DOWN_BROKERS = {
    "redis": "redis://127.0.0.1:1/0",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:1//",
}
QUEUE_DOWN = "The job queue is unreachable; nothing was scheduled. Try again shortly."
STORE_FULL = "The file store is full; nothing was stored. Try again later."
STORE_DOWN = "The file store is unreachable; nothing was stored. Try again shortly."


# --- the broker ----------------------------------------------------------------------------------------


def _drop_connections():
    """Forget pooled broker connections and producers so that new broker settings take effect."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.__dict__.pop("amqp", None)


@contextmanager
def broker_at(url: str, *, transport_options: dict | None = None):
    """The project's Celery app sending to ``url`` for real (not eager) inside the block; the
    connection timeout and publish retry policy stay the project's settings."""
    changes = {"broker_url": url, "broker_transport_options": transport_options or {}, "task_always_eager": False}
    saved = {key: celery_app.conf[key] for key in changes}
    celery_app.conf.update({f"CELERY_{key.upper()}": value for key, value in changes.items()})
    _drop_connections()
    try:
        yield
    finally:
        celery_app.conf.update({f"CELERY_{key.upper()}": value for key, value in saved.items()})
        _drop_connections()


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts every connection and never sends a byte: a broker or
    a generation server that hangs."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.sock.close()
        for conn in self.accepted:
            conn.close()
        self.thread.join(timeout=5)


# --- media stores ------------------------------------------------------------------------------------


class FailingStorage(InMemoryStorage):
    """An in-memory store whose writes under ``failing_prefixes`` fail with ``error()``."""

    failing_prefixes: tuple[str, ...] = ("",)

    def error(self) -> Exception:
        raise NotImplementedError

    def _save(self, name, content):
        if name.startswith(self.failing_prefixes):
            raise self.error()
        return super()._save(name, content)


class FullStorage(FailingStorage):
    """A disk out of space: writes fail with ENOSPC."""

    def error(self):
        return OSError(errno.ENOSPC, "No space left on device")


class UnreachableStorage(FailingStorage):
    """An S3 endpoint that cannot be reached."""

    def error(self):
        return EndpointConnectionError(endpoint_url="http://s3.invalid:9000/atelier-media")


class MediaFullStorage(FullStorage):
    """Archives are stored; the images taken out of them are not (the disk fills up meanwhile)."""

    failing_prefixes = ("sartiq/media/",)


class OutputsUnreachableStorage(UnreachableStorage):
    """The store goes away while a worker writes generated files."""

    failing_prefixes = ("files/",)


STORES = {
    "full": ("tests.hardening.drill_support.FullStorage", 507, STORE_FULL),
    "unreachable": ("tests.hardening.drill_support.UnreachableStorage", 503, STORE_DOWN),
}


def use_storage(settings, backend: str):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": backend}}


def stored_names(storage, directory: str = "") -> set[str]:
    """Every file under ``directory`` of ``storage``, recursively."""
    try:
        directories, files = storage.listdir(directory)
    except FileNotFoundError:
        return set()
    prefix = f"{directory}/" if directory else ""
    names = {f"{prefix}{name}" for name in files}
    for sub in directories:
        names |= stored_names(storage, f"{prefix}{sub}")
    return names


class ChunksThenFull:
    """Upload content that yields one chunk and then fails like a full disk (a real partial write)."""

    def __init__(self, first: bytes):
        self.first = first
        self.name = "partial.bin"
        self.size = len(first) * 2

    def chunks(self, chunk_size=None):
        yield self.first
        raise OSError(errno.ENOSPC, "No space left on device")

    def seek(self, *args):
        return 0

    def open(self, *args):
        return self

    def close(self):
        pass

    def __iter__(self):
        return iter(io.BytesIO(self.first))


# --- the real WSGI cycle -----------------------------------------------------------------------------


def wsgi_get(path: str, **headers) -> tuple[int, bytes]:
    """GET ``path`` through Django's WSGI handler, as gunicorn calls it: request_started and
    request_finished fire, so persistent connections are kept, health-checked and closed as in
    production (the test client skips that)."""
    handler = WSGIHandler()
    environ = RequestFactory().get(path, **headers).environ
    answered = {}

    def start_response(status, response_headers, exc_info=None):
        answered["status"] = int(status.split()[0])

    response = handler(environ, start_response)
    try:
        body = b"".join(response)
    finally:
        response.close()
    return answered["status"], body
