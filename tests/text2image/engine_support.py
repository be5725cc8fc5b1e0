"""Helpers of the generation engine tests: a real HTTP server for provider tests, callers, images."""

import io
import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

from apps.accounts import services as accounts
from apps.billing.models import Subscription
from apps.core.domains import default_domain
from apps.text2image.services import generation, jobs

NOT_SIGNED_IN = "You are not signed in."


def ok(payload) -> dict:
    return {"hasError": False, "errorMessage": None, "payload": payload}


def session_for(user=None):
    return accounts.create_session(domain=default_domain(), user=user)


def as_session(session) -> dict:
    return {"HTTP_X_SESSION_ID": str(session.pk)}


def as_user(user) -> dict:
    return as_session(session_for(user))


def subscribe(user, tier: int) -> Subscription:
    return Subscription.objects.create(
        user=user, domain=user.domain, merchant_processor="stripe", tier=tier, product_id=f"stripe-tier{tier}"
    )


def png_bytes(width=64, height=48, colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def schedule(model, *, owner=None, guest_session=None, prompt="a lighthouse at dusk", values=None, **kwargs):
    parameters = generation.validate_parameters(model=model, values=values or {"seed": 1, "subseed": 2})
    kind = "video" if model.makes_video else "image"
    return jobs.schedule_job(
        owner=owner,
        guest_session=guest_session,
        model=model,
        kind=kind,
        raw_prompt=prompt,
        parameters=parameters,
        **kwargs,
    )


# --- a fake generation server ------------------------------------------------------------------------


class FakeServer:
    """A real HTTP server on 127.0.0.1 that answers with ``handler(method, path, body, headers)``,
    which returns ``(status, json_or_bytes)``; every request is recorded in ``requests``."""

    def __init__(self, handler):
        self.handler = handler
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                record = {"method": self.command, "path": self.path, "body": body, "headers": dict(self.headers)}
                with server.lock:
                    server.requests.append(record)
                status, payload = server.handler(self.command, self.path, body, dict(self.headers))
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = _answer
            do_POST = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@contextmanager
def fake_server(handler):
    with FakeServer(handler) as server:
        yield server


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answer_png(width=512, height=512, *, seeds=None):
    """An AUTOMATIC1111 txt2img answer with one PNG."""
    import base64

    image = base64.b64encode(png_bytes(width, height)).decode()
    return 200, {"images": [image], "parameters": {}, "info": json.dumps({"all_seeds": seeds or []})}
