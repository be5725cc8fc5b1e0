"""A small JSON-over-HTTP client for providers: plain ``urllib`` with timeouts, size caps and errors
a person can read.

Providers talk to servers their operator configured (an A1111 or ComfyUI box on the LAN, an
OpenAI-compatible endpoint), so they do not go through ``apps.core.net`` (which refuses private
addresses by design). Environment proxies are not used unless a provider's config says
``"use_env_proxy": true``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin

from .base import ProviderError, ProviderTimeout

MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 200 * MIB
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass
class HttpResponse:
    status: int
    headers: dict
    content: bytes

    def json(self):
        try:
            return json.loads(self.content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ProviderError("The generation server answered with something that is not JSON.") from exc


class HttpClient:
    """Requests to one server: ``base_url`` plus the provider's headers, timeout and auth."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 60.0,
        headers: dict | None = None,
        username: str = "",
        password: str = "",
        use_env_proxy: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
        server_name: str = "the generation server",
    ):
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise ProviderError(f"The provider has no valid base_url configured (got {base_url!r}).")
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout = float(timeout)
        self.headers = dict(headers or {})
        if username or password:
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"
        handlers = [] if use_env_proxy else [urllib.request.ProxyHandler({})]
        self.opener = urllib.request.build_opener(*handlers)
        self.max_bytes = max_bytes
        self.server_name = server_name

    @property
    def title(self) -> str:
        """The server's name at the start of a sentence."""
        return self.server_name[:1].upper() + self.server_name[1:]

    def url(self, path: str, query: dict | None = None) -> str:
        url = urljoin(self.base_url, path.lstrip("/"))
        return f"{url}?{urlencode(query)}" if query else url

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body=None,
        query: dict | None = None,
        timeout: float | None = None,
    ) -> HttpResponse:
        data = None
        headers = {"Accept": "application/json", **self.headers}
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url(path, query), data=data, headers=headers, method=method)  # noqa: S310
        limit = self.timeout if timeout is None else timeout
        try:
            with self.opener.open(request, timeout=limit) as response:
                content = self._read(response)
                return HttpResponse(response.status, dict(response.headers), content)
        except urllib.error.HTTPError as exc:
            body = b""
            with contextlib.suppress(ProviderError):
                body = self._read(exc)
            raise self._status_error(exc.code, body) from None
        except TimeoutError as exc:
            raise ProviderTimeout(f"{self.title} did not answer within {limit:g} seconds.", transient=True) from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                raise ProviderTimeout(f"{self.title} did not answer within {limit:g} seconds.", transient=True) from exc
            raise ProviderError(f"{self.title} cannot be reached ({exc.reason}).", transient=True) from exc
        except (ConnectionError, OSError) as exc:
            raise ProviderError(f"{self.title} cannot be reached ({exc}).", transient=True) from exc

    def _read(self, response) -> bytes:
        chunks, total = [], 0
        while True:
            chunk = response.read(MIB)
            if not chunk:
                break
            total += len(chunk)
            if total > self.max_bytes:
                raise ProviderError(f"{self.title} sent more than {self.max_bytes // MIB} MB.")
            chunks.append(chunk)
        return b"".join(chunks)

    def _status_error(self, status: int, body: bytes) -> ProviderError:
        detail = error_detail(body)
        message = f"{self.title} answered HTTP {status}"
        message = f"{message}: {detail}" if detail else f"{message}."
        return ProviderError(message, transient=status in TRANSIENT_STATUSES)

    def post_json(self, path: str, payload, **kwargs):
        return self.request("POST", path, json_body=payload, **kwargs).json()

    def get_json(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs).json()


def error_detail(body: bytes, limit: int = 500) -> str:
    """The error message inside an error answer (FastAPI ``detail``, OpenAI ``error.message``, ...)."""
    if not body:
        return ""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:limit]
    for key in ("detail", "error", "message", "errors"):
        value = data.get(key) if isinstance(data, dict) else None
        if isinstance(value, dict):
            value = value.get("message") or value.get("msg") or json.dumps(value)
        if isinstance(value, list):
            value = "; ".join(str(v.get("msg", v)) if isinstance(v, dict) else str(v) for v in value)
        if value:
            return str(value)[:limit]
    return text[:limit]


def decode_base64_image(value: str) -> bytes:
    """Bytes of a base64 image, with or without a ``data:...;base64,`` prefix."""
    if not isinstance(value, str):
        raise ProviderError("The generation server sent an image that is not base64 text.")
    if value.startswith("data:") and "," in value:
        value = value.split(",", 1)[1]
    try:
        return base64.b64decode(value, validate=False)
    except (ValueError, TypeError) as exc:
        raise ProviderError("The generation server sent an image that is not valid base64.") from exc
