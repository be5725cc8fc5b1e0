"""Fetching user-supplied URLs without letting them reach Atelier's own network.

Each hop (the URL, then every redirect) is parsed and checked, its host is resolved once, every
address it resolves to is checked, and the connection goes to a checked address: the name is never
resolved again, so a DNS answer that changes between check and use cannot redirect the request.
TLS is verified against the host name from the URL while the socket is connected to the address.
Every socket operation waits at most the read timeout and never past the total deadline, and the
body is counted while it streams, so neither a slow nor a huge response can hold a worker.
"""

import http
import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote, urljoin

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .addresses import IPAddress, IPNetwork, canonical, refusal_reason
from .errors import FetchFailed, FetchTimeout, FetchTooLarge, UnsafeURL
from .urls import Target, parse_url

DEFAULT_PORTS = frozenset({80, 443})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
USER_AGENT = "Atelier"
CHUNK_SIZE = 64 * 1024
_ASCII_PRINTABLE = "".join(chr(code) for code in range(0x21, 0x7F))

# Headers that describe the connection or the framing of the message; the fetcher sets them.
_MANAGED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "upgrade",
        "te",
        "trailer",
        "accept-encoding",
    }
)
# Dropped when a redirect leads to another scheme, host or port, as browsers do.
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, in the resolver's order (one lookup). Tests replace this function."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(info[4][0] for info in infos))


@cache
def _system_tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def tls_context() -> ssl.SSLContext:
    """TLS settings for https fetches: the system CA store, certificate and host name verification on."""
    return _system_tls_context()


@dataclass(frozen=True)
class FetchResult:
    status: int
    headers: Mapping[str, str]  # names lower-cased; repeated headers joined with ", "
    content: bytes
    content_type: str  # the media type without parameters, lower-cased ("image/png"); "" when absent
    final_url: str  # the URL of the last hop, after redirects


@dataclass(frozen=True)
class _Limits:
    max_bytes: int
    connect_timeout: float
    read_timeout: float
    total_timeout: float
    deadline: float

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the total deadline has passed")
        return left


@dataclass(frozen=True)
class _Policy:
    networks: tuple[IPNetwork, ...]
    ports: frozenset[int]

    @classmethod
    def from_settings(cls) -> "_Policy":
        networks = getattr(settings, "SAFE_FETCH_ALLOWED_NETWORKS", ()) or ()
        ports = getattr(settings, "SAFE_FETCH_EXTRA_PORTS", ()) or ()
        if isinstance(networks, str) or isinstance(ports, (str, int)):
            raise ImproperlyConfigured("SAFE_FETCH_ALLOWED_NETWORKS and SAFE_FETCH_EXTRA_PORTS must be lists.")
        try:
            parsed = tuple(ipaddress.ip_network(network, strict=False) for network in networks)
        except ValueError as exc:
            raise ImproperlyConfigured(f"SAFE_FETCH_ALLOWED_NETWORKS: {exc}") from None
        extra = frozenset(int(port) for port in ports)
        if any(not 0 < port <= 65535 for port in extra):
            raise ImproperlyConfigured("SAFE_FETCH_EXTRA_PORTS holds a number that is not a TCP port.")
        return cls(networks=parsed, ports=DEFAULT_PORTS | extra)


class _DeadlineMixin:
    """Each send or receive waits at most the read timeout, and never past the fetch's total deadline."""

    _fetch_deadline: float | None = None
    _fetch_io_timeout: float = 0.0

    def _arm(self) -> None:
        if self._fetch_deadline is None:
            return
        remaining = self._fetch_deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the total deadline has passed")
        self.settimeout(min(self._fetch_io_timeout, remaining))

    def recv(self, *args, **kwargs):
        self._arm()
        return super().recv(*args, **kwargs)

    def recv_into(self, *args, **kwargs):
        self._arm()
        return super().recv_into(*args, **kwargs)

    def send(self, *args, **kwargs):
        self._arm()
        return super().send(*args, **kwargs)

    def sendall(self, *args, **kwargs):
        self._arm()
        return super().sendall(*args, **kwargs)


class _DeadlineSocket(_DeadlineMixin, socket.socket):
    pass


class _DeadlineSSLSocket(_DeadlineMixin, ssl.SSLSocket):
    pass


def check_url(url: str) -> str:
    """The normalized ``url`` when it passes every check that needs no network, else UnsafeURL.

    Use it to reject bad input early; safe_fetch repeats these checks and also checks the addresses
    the host resolves to, so passing here does not mean the fetch will be allowed.
    """
    target = parse_url(url)
    _check_target(target, _Policy.from_settings())
    return target.url


@contextmanager
def safe_stream(
    url: str,
    *,
    max_bytes: int,
    connect_timeout: float = 5.0,
    read_timeout: float = 10.0,
    total_timeout: float = 30.0,
    max_redirects: int = 3,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator["FetchStream"]:
    """Fetch ``url`` and yield a FetchStream: status and headers are known, the body is read by iterating it.

    Only 2xx answers are yielded (FetchFailed otherwise). Iterating raises FetchTooLarge as soon as the
    body passes ``max_bytes`` and FetchTimeout when the server stalls or the total deadline passes.
    The connection is closed when the block ends.
    """
    stream = _open(
        url,
        max_bytes=max_bytes,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        total_timeout=total_timeout,
        max_redirects=max_redirects,
        method=method,
        headers=headers,
        body=body,
        chunk_size=chunk_size,
    )
    try:
        yield stream
    finally:
        stream.close()


def safe_fetch(
    url: str,
    *,
    max_bytes: int,
    connect_timeout: float = 5.0,
    read_timeout: float = 10.0,
    total_timeout: float = 30.0,
    max_redirects: int = 3,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
) -> FetchResult:
    """Fetch ``url`` into memory (at most ``max_bytes``); see safe_stream for the rules and errors."""
    with safe_stream(
        url,
        max_bytes=max_bytes,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        total_timeout=total_timeout,
        max_redirects=max_redirects,
        method=method,
        headers=headers,
        body=body,
    ) as stream:
        content = b"".join(stream)
    return FetchResult(
        status=stream.status,
        headers=stream.headers,
        content=content,
        content_type=stream.content_type,
        final_url=stream.final_url,
    )


class FetchStream:
    """A successful response whose body has not been read: iterate it (once) for the body's chunks."""

    def __init__(self, exchange: "_Exchange", *, limits: _Limits, chunk_size: int, content_length: int | None):
        self._exchange = exchange
        self._limits = limits
        self._chunk_size = chunk_size
        self._started = False
        response = exchange.response
        self.status: int = response.status
        self.headers: dict[str, str] = _header_map(response)
        self.content_type: str = self.headers.get("content-type", "").split(";")[0].strip().lower()
        self.final_url: str = exchange.target.url
        self.content_length = content_length  # as declared by the server, already checked against max_bytes

    def __iter__(self) -> Iterator[bytes]:
        if self._started:
            raise RuntimeError("The body of a fetch can be read only once.")
        self._started = True
        return self._chunks()

    def _chunks(self) -> Iterator[bytes]:
        response, host = self._exchange.response, self._exchange.target.written_host
        limit, received = self._limits.max_bytes, 0
        while True:
            try:
                chunk = response.read1(min(self._chunk_size, limit - received + 1))
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise _transport_error(exc, self._exchange.target, self._limits, "sending the body") from exc
            if not chunk:
                break
            received += len(chunk)
            if received > limit:
                self.close()
                raise FetchTooLarge(
                    f"The file at {host} is larger than the {limit} bytes allowed; the download was stopped.",
                    max_bytes=limit,
                )
            yield chunk
        self.close()
        if self.content_length is not None and received != self.content_length:
            raise FetchFailed(
                f"The server at {host} sent {received} bytes of the {self.content_length} it announced.",
            )

    def close(self) -> None:
        self._exchange.close()


class _Exchange:
    """One request on one pinned connection."""

    def __init__(self, target: Target, sock: socket.socket, connection: http.client.HTTPConnection):
        self.target = target
        self.sock = sock
        self.connection = connection
        self.response: http.client.HTTPResponse | None = None

    def close(self) -> None:
        if self.response is not None:
            self.response.close()
        self.connection.close()
        self.sock.close()


def _open(
    url, *, max_bytes, connect_timeout, read_timeout, total_timeout, max_redirects, method, headers, body, chunk_size
):
    _check_arguments(max_bytes, (connect_timeout, read_timeout, total_timeout), max_redirects, chunk_size, body)
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"Unsupported method {method!r}.")
    limits = _Limits(max_bytes, connect_timeout, read_timeout, total_timeout, time.monotonic() + total_timeout)
    policy = _Policy.from_settings()
    request_headers = _request_headers(headers)
    hop_url, redirects, previous_origin = url, 0, None
    while True:
        try:
            target = parse_url(hop_url)
            _check_target(target, policy)
            addresses = _pinned_addresses(target, policy, limits)
        except UnsafeURL as exc:
            if redirects:
                shown = hop_url if len(hop_url) <= 300 else hop_url[:300] + "…"
                raise UnsafeURL(f"The URL redirected to {shown}, which was refused. {exc.message}") from None
            raise
        if previous_origin is not None and target.origin != previous_origin:
            request_headers = _without(request_headers, _CREDENTIAL_HEADERS)
        exchange = _exchange(target, addresses, method, request_headers, body, limits)
        response = exchange.response
        location = _redirect_location(exchange) if response.status in REDIRECT_STATUSES else None
        if location is None:
            break
        exchange.close()
        if redirects >= max_redirects:
            raise FetchFailed(
                f"The URL redirected more than {max_redirects} times; give the final address of the file instead."
            )
        redirects += 1
        hop_url, previous_origin = urljoin(target.url, location), target.origin
        if (response.status == 303 and method != "HEAD") or (response.status in (301, 302) and method == "POST"):
            method, body = "GET", None
            request_headers = _without(request_headers, {"content-type"})
    try:
        content_length = _content_length(exchange, method, limits)
    except BaseException:
        exchange.close()
        raise
    return FetchStream(exchange, limits=limits, chunk_size=chunk_size, content_length=content_length)


def _check_arguments(max_bytes, timeouts, max_redirects, chunk_size, body) -> None:
    for name, value in (("max_bytes", max_bytes), ("max_redirects", max_redirects), ("chunk_size", chunk_size)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} must be an integer.")
    if max_bytes < 1 or chunk_size < 1 or max_redirects < 0:
        raise ValueError("max_bytes and chunk_size must be positive and max_redirects not negative.")
    if any(not timeout > 0 for timeout in timeouts):
        raise ValueError("Timeouts must be positive numbers of seconds.")
    if body is not None and not isinstance(body, bytes):
        raise TypeError("body must be bytes.")


def _request_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    merged = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    for name, value in (headers or {}).items():
        if name.lower() in _MANAGED_HEADERS:
            raise ValueError(f"The {name} header is set by the fetcher and cannot be passed.")
        merged = _without(merged, {name.lower()})
        merged[name] = value
    # No compressed bodies: the size cap applies to the bytes as stored, and nothing is decompressed here.
    merged["Accept-Encoding"] = "identity"
    merged["Connection"] = "close"
    return merged


def _without(headers: dict[str, str], names) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name.lower() not in names}


def _check_target(target: Target, policy: _Policy) -> None:
    if target.address is not None:
        reason = refusal_reason(target.address, policy.networks)
        if reason:
            shown = str(canonical(target.address))
            if target.written_host.strip("[]").rstrip(".") == shown:
                raise UnsafeURL(f"The host {target.written_host} is {reason}. {_ONLY_PUBLIC}")
            raise UnsafeURL(f"The host {target.written_host} denotes {shown}, {reason}. {_ONLY_PUBLIC}")
    if target.port not in policy.ports:
        *others, last = sorted(policy.ports)
        allowed = f"{', '.join(str(port) for port in others)} and {last}"
        raise UnsafeURL(f"Port {target.port} is not allowed; only ports {allowed} can be fetched.")


_ONLY_PUBLIC = "Only addresses on the public internet can be fetched."


def _pinned_addresses(target: Target, policy: _Policy, limits: _Limits) -> list[IPAddress]:
    """The checked addresses to connect to for this hop: the literal address, or every DNS answer."""
    if target.address is not None:
        return [canonical(target.address)]
    try:
        limits.remaining()
        answers = resolve(target.host, target.port)
    except TimeoutError:
        raise FetchTimeout(
            f"Fetching from {target.written_host} did not finish within {limits.total_timeout:g} s."
        ) from None
    except (OSError, UnicodeError):
        raise FetchFailed(f"The host {target.written_host} could not be resolved; check the URL.") from None
    if not answers:
        raise FetchFailed(f"The host {target.written_host} could not be resolved; check the URL.")
    addresses = []
    for answer in answers:
        try:
            address = ipaddress.ip_address(str(answer))
        except ValueError:
            raise UnsafeURL(f"The host {target.written_host} resolves to an address that cannot be checked.") from None
        reason = refusal_reason(address, policy.networks)
        if reason:
            raise UnsafeURL(f"The host {target.written_host} resolves to {reason}. {_ONLY_PUBLIC}")
        addresses.append(canonical(address))
    return list(dict.fromkeys(addresses))


def _exchange(target, addresses, method, headers, body, limits) -> _Exchange:
    sock = _connect(target, addresses, limits)
    connection = http.client.HTTPConnection(str(addresses[0]), target.port)
    connection.sock, connection.auto_open = sock, 0  # never opens a connection of its own
    exchange = _Exchange(target, sock, connection)
    try:
        connection.request(method, target.request_target, body=body, headers={**headers, "Host": target.host_header})
        exchange.response = connection.getresponse()
    except (OSError, http.client.HTTPException) as exc:
        exchange.close()
        raise _transport_error(exc, target, limits, "waiting for the response") from exc
    except BaseException:
        exchange.close()
        raise
    return exchange


def _connect(target: Target, addresses: list[IPAddress], limits: _Limits) -> socket.socket:
    failure: OSError | None = None
    for address in addresses:
        try:
            return _connect_to(target, address, limits)
        except ssl.SSLCertVerificationError as exc:
            raise _transport_error(exc, target, limits, "connecting") from exc
        except OSError as exc:
            failure = exc
            if time.monotonic() >= limits.deadline:
                break
    raise _transport_error(failure, target, limits, "connecting") from failure


def _connect_to(target: Target, address: IPAddress, limits: _Limits) -> socket.socket:
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = _DeadlineSocket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.settimeout(min(limits.connect_timeout, limits.remaining()))
        sock.connect((str(address), target.port))
        if target.scheme == "https":
            context = tls_context()
            context.sslsocket_class = _DeadlineSSLSocket
            sock.settimeout(min(limits.connect_timeout, limits.remaining()))
            sock = context.wrap_socket(sock, server_hostname=target.host)
    except BaseException:
        sock.close()
        raise
    sock._fetch_deadline, sock._fetch_io_timeout = limits.deadline, limits.read_timeout
    return sock


def _transport_error(exc: BaseException, target: Target, limits: _Limits, stage: str) -> FetchFailed:
    host = target.written_host
    if isinstance(exc, TimeoutError):
        if time.monotonic() >= limits.deadline - 0.01:
            return FetchTimeout(f"Fetching from {host} did not finish within {limits.total_timeout:g} s.")
        if stage == "connecting":
            return FetchTimeout(
                f"The server at {host} did not accept a connection within {limits.connect_timeout:g} s."
            )
        return FetchTimeout(f"The server at {host} sent nothing for {limits.read_timeout:g} s while {stage}.")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return FetchFailed(f"The TLS certificate of {host} could not be verified: {exc.verify_message}.")
    if isinstance(exc, ssl.SSLError):
        return FetchFailed(f"The TLS connection to {host} failed.")
    if isinstance(exc, ConnectionRefusedError):
        return FetchFailed(f"The server at {host} refused the connection on port {target.port}.")
    if isinstance(exc, http.client.IncompleteRead):
        return FetchFailed(f"The server at {host} closed the connection before sending the whole body.")
    if isinstance(exc, http.client.RemoteDisconnected):
        return FetchFailed(f"The server at {host} closed the connection without answering.")
    if isinstance(exc, http.client.HTTPException):
        return FetchFailed(f"The server at {host} did not answer with a valid HTTP response.")
    return FetchFailed(f"The server at {host} could not be reached on port {target.port}.")


def _redirect_location(exchange: _Exchange) -> str | None:
    locations = {value.strip() for value in exchange.response.msg.get_all("Location") or []}
    if len(locations) > 1:
        exchange.close()
        raise FetchFailed(f"The server at {exchange.target.written_host} sent a redirect with several locations.")
    if not locations:
        return None
    # Header values arrive decoded as Latin-1; non-ASCII bytes are percent-encoded back as they were sent.
    return quote(locations.pop().encode("latin-1", errors="replace"), safe=_ASCII_PRINTABLE)


def _content_length(exchange: _Exchange, method: str, limits: _Limits) -> int | None:
    response, host = exchange.response, exchange.target.written_host
    if not 200 <= response.status < 300:
        try:
            phrase = http.HTTPStatus(response.status).phrase
        except ValueError:
            phrase = ""
        raise FetchFailed(
            f"The server at {host} answered {response.status} {phrase}".rstrip() + ".",
            upstream_status=response.status,
        )
    values = exchange.response.msg.get_all("Content-Length") or []
    if method == "HEAD" or response.status in (204, 304) or response.chunked or not values:
        return None
    declared = {part.strip() for value in values for part in value.split(",")}
    if len(declared) != 1 or not next(iter(declared)).isdigit() or not next(iter(declared)).isascii():
        raise FetchFailed(f"The server at {host} sent an invalid Content-Length.")
    length = int(declared.pop())
    if length > limits.max_bytes:
        raise FetchTooLarge(
            f"The file at {host} is {length} bytes, more than the {limits.max_bytes} bytes allowed.",
            max_bytes=limits.max_bytes,
        )
    return length


def _header_map(response: http.client.HTTPResponse) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in response.getheaders():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers
