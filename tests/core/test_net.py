"""apps.core.net: user-supplied URLs are fetched only from public addresses, pinned, capped and timed.

Real HTTP servers listen on loopback. The one on 127.0.0.2 plays a public server (these tests put
127.0.0.2/32 in SAFE_FETCH_ALLOWED_NETWORKS); the ones on 127.0.0.1 and [::1] play private services
and must never see a connection. Every socket connect the client makes is recorded.
"""

import datetime
import http.server
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from apps.core.errors import AtelierError, InvalidInput
from apps.core.net import (
    FetchFailed,
    FetchTimeout,
    FetchTooLarge,
    UnsafeURL,
    check_url,
    safe_fetch,
    safe_stream,
)
from apps.core.net import fetch as fetch_module
from apps.core.net.addresses import refusal_reason
from apps.core.net.urls import parse_host

PUBLIC_HOST = "127.0.0.2"
PRIVATE_HOST = "127.0.0.1"
ANY_V4 = str(ipaddress.IPv4Address(0))  # the unspecified address, written out
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@dataclass
class Seen:
    method: str
    path: str
    headers: dict
    body: bytes


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def _serve(self):
        listener = self.server.listener
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        listener.requests.append(Seen(self.command, self.path, headers, body))
        listener.routes.get(self.path, listener.default)(self)

    do_GET = do_HEAD = do_POST = do_PUT = _serve


class Listener:
    """An HTTP(S) server in a thread that records every connection it accepts and every request."""

    def __init__(self, host: str, *, family=socket.AF_INET, default=None, tls: ssl.SSLContext | None = None):
        listener = self

        class Server(http.server.ThreadingHTTPServer):
            address_family = family
            daemon_threads = True

            def verify_request(self, request, client_address):
                listener.connections += 1
                return True

            def handle_error(self, request, client_address):
                pass  # the client hangs up early in the size and timeout tests

        self.default = default or respond(404, b"not found", "text/plain")
        self.sni: list[str] = []
        self.reset()
        self.server = Server((host, 0), _Handler)
        self.server.listener = self
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.host, self.port = host, self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def reset(self):
        self.connections = 0
        self.requests: list[Seen] = []
        self.routes = {}
        self.sni.clear()
        self.release = threading.Event()

    def url(self, path: str = "/", *, host: str | None = None, scheme: str = "http") -> str:
        host = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{scheme}://{host}:{self.port}{path}"

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def respond(status=200, body=b"", content_type="application/octet-stream", headers=()):
    def route(handler):
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            handler.send_header(name, value)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    return route


def redirect(location: str, status: int = 302):
    return respond(status, headers=[("Location", location)])


def raw(head: bytes, body_parts=(), *, then_wait=False):
    """A hand-written response: ``head``, then each body part, then (optionally) silence until released."""

    def route(handler):
        handler.close_connection = True
        try:
            handler.wfile.write(head)
            for part in body_parts:
                handler.wfile.write(part)
        except OSError:
            return
        if then_wait:
            handler.server.listener.release.wait(5)

    return route


def dripping(handler):
    handler.close_connection = True
    handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n")
    while not handler.server.listener.release.wait(0.05):
        try:
            handler.wfile.write(b"x")
        except OSError:
            return


@pytest.fixture(scope="module")
def servers():
    listeners = SimpleNamespace(
        public=Listener(PUBLIC_HOST),
        private=Listener(PRIVATE_HOST, default=respond(200, b"internal secret", "text/plain")),
        private6=Listener("::1", family=socket.AF_INET6, default=respond(200, b"internal secret", "text/plain")),
    )
    yield listeners
    for listener in vars(listeners).values():
        listener.stop()


@pytest.fixture(autouse=True)
def net(servers, settings):
    """127.0.0.2 counts as public; every listener's port may be used, so refusals are about addresses."""
    for listener in vars(servers).values():
        listener.reset()
    settings.SAFE_FETCH_ALLOWED_NETWORKS = [f"{PUBLIC_HOST}/32"]
    settings.SAFE_FETCH_EXTRA_PORTS = [listener.port for listener in vars(servers).values()]
    yield servers
    for listener in vars(servers).values():
        listener.release.set()


@pytest.fixture
def public(net):
    return net.public


@pytest.fixture
def private(net):
    return net.private


@pytest.fixture
def connects(monkeypatch):
    """Every (address, port) a socket of this process connects to during the test."""
    seen = []
    original = socket.socket.connect

    def connect(sock, address):
        seen.append(tuple(address[:2]))
        return original(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


@pytest.fixture
def names(monkeypatch):
    """A made-up DNS: fill ``table``; ``calls`` lists the lookups. The system resolver must not be used."""
    state = SimpleNamespace(table={}, calls=[])

    def resolve(host, port):
        state.calls.append(host)
        answer = state.table.get(host)
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(answer() if callable(answer) else answer)

    def no_lookup(*args, **kwargs):
        raise AssertionError(f"a name was resolved again while connecting: {args[:1]}")

    monkeypatch.setattr(fetch_module, "resolve", resolve)
    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    return state


def assert_untouched(*listeners):
    time.sleep(0.05)  # a connection, had one been made, would be accepted by now
    for listener in listeners:
        assert listener.connections == 0, f"{listener.host} was reached"
        assert listener.requests == []


# Successful fetches -------------------------------------------------------------------------------


def test_fetch_follows_one_redirect_and_connects_only_to_the_checked_address(public, private, names, connects):
    names.table["images.test"] = [PUBLIC_HOST]
    public.routes["/start"] = redirect("/cat.png")
    public.routes["/cat.png"] = respond(200, PNG, "image/png; name=cat")

    result = safe_fetch(public.url("/start", host="images.test"), max_bytes=len(PNG))

    assert result.status == 200
    assert result.content == PNG
    assert result.content_type == "image/png"
    assert result.headers["content-length"] == str(len(PNG))
    assert result.final_url == f"http://images.test:{public.port}/cat.png"
    assert [request.path for request in public.requests] == ["/start", "/cat.png"]
    assert {request.headers["host"] for request in public.requests} == {f"images.test:{public.port}"}
    assert public.requests[0].headers["accept-encoding"] == "identity"
    assert names.calls == ["images.test", "images.test"]  # once per hop
    assert connects == [(PUBLIC_HOST, public.port), (PUBLIC_HOST, public.port)]
    assert_untouched(private)


def test_a_name_that_rebinds_after_the_check_still_reaches_the_checked_address(public, private, names, connects):
    answers = iter([[PUBLIC_HOST]])
    names.table["rebind.test"] = lambda: next(answers, [PRIVATE_HOST])
    public.routes["/a.png"] = respond(200, PNG, "image/png")

    result = safe_fetch(public.url("/a.png", host="rebind.test"), max_bytes=10_000)

    assert result.content == PNG
    assert names.calls == ["rebind.test"]
    assert connects == [(PUBLIC_HOST, public.port)]
    assert_untouched(private)


def test_stream_yields_the_body_in_bounded_chunks(public):
    body = bytes(range(256)) * 40
    public.routes["/big.bin"] = respond(200, body, "application/octet-stream")

    with safe_stream(public.url("/big.bin"), max_bytes=len(body), chunk_size=1000) as stream:
        assert stream.status == 200
        assert stream.content_length == len(body)
        assert stream.content_type == "application/octet-stream"
        chunks = list(stream)
        with pytest.raises(RuntimeError):
            list(stream)

    assert b"".join(chunks) == body
    assert len(chunks) >= len(body) // 1000
    assert max(len(chunk) for chunk in chunks) <= 1000


def test_post_becomes_get_on_303_and_stays_post_on_307(public):
    public.routes["/see-other"] = redirect("/landing", 303)
    public.routes["/temporary"] = redirect("/landing", 307)
    public.routes["/landing"] = respond(200, b"ok", "text/plain")
    headers = {"Content-Type": "application/json"}

    safe_fetch(public.url("/see-other"), max_bytes=100, method="POST", headers=headers, body=b'{"a": 1}')
    safe_fetch(public.url("/temporary"), max_bytes=100, method="POST", headers=headers, body=b'{"a": 1}')

    first, landing_get, second, landing_post = public.requests
    assert (first.method, first.body) == ("POST", b'{"a": 1}')
    assert (landing_get.method, landing_get.body) == ("GET", b"")
    assert "content-type" not in landing_get.headers
    assert (second.method, landing_post.method, landing_post.body) == ("POST", "POST", b'{"a": 1}')


def test_credentials_headers_are_dropped_when_a_redirect_changes_host(public, names):
    names.table["a.test"] = [PUBLIC_HOST]
    names.table["b.test"] = [PUBLIC_HOST]
    public.routes["/here"] = redirect("/there")
    public.routes["/there"] = redirect(public.url("/elsewhere", host="b.test"))
    public.routes["/elsewhere"] = respond(200, b"ok", "text/plain")

    safe_fetch(public.url("/here", host="a.test"), max_bytes=100, headers={"Authorization": "Bearer t"})

    assert [request.headers.get("authorization") for request in public.requests] == ["Bearer t", "Bearer t", None]


# Refused before any connection --------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "[::ffff:127.0.0.1]", "2130706433", "0x7f000001", "017700000001", "127.1", "0177.0.0.1", "0x7f.1"],
)
def test_loopback_in_any_notation_is_refused(private, connects, host):
    with pytest.raises(UnsafeURL) as refused:
        safe_fetch(private.url("/", host=host), max_bytes=1000)

    assert "loopback" in refused.value.message
    assert refused.value.status_code == 400
    assert isinstance(refused.value, InvalidInput)
    assert connects == []
    assert_untouched(private)


def test_localhost_is_refused_after_resolving_it(private, connects):
    with pytest.raises(UnsafeURL) as refused:
        safe_fetch(private.url("/", host="localhost"), max_bytes=1000)

    assert "resolves to a loopback address" in refused.value.message
    assert connects == []
    assert_untouched(private)


def test_ipv6_loopback_is_refused(net, connects):
    with pytest.raises(UnsafeURL) as refused:
        safe_fetch(net.private6.url("/"), max_bytes=1000)

    assert "loopback" in refused.value.message
    assert connects == []
    assert_untouched(net.private6)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://2852039166/",
    ],
)
def test_cloud_metadata_is_refused_even_inside_allowed_networks(settings, connects, url):
    settings.SAFE_FETCH_ALLOWED_NETWORKS = ["169.254.0.0/16", "100.64.0.0/10", "fd00::/8", "64:ff9b::/96"]

    with pytest.raises(UnsafeURL) as refused:
        safe_fetch(url, max_bytes=1000)

    assert "metadata" in refused.value.message
    assert connects == []


def test_a_name_resolving_to_a_private_address_is_refused_without_naming_the_address(private, names, connects):
    names.table["intranet.test"] = [PRIVATE_HOST]

    with pytest.raises(UnsafeURL) as refused:
        safe_fetch(private.url("/", host="intranet.test"), max_bytes=1000)

    assert refused.value.message.startswith("The host intranet.test resolves to a loopback address.")
    assert PRIVATE_HOST not in refused.value.message
    assert connects == []
    assert_untouched(private)


def test_a_name_resolving_to_one_public_and_one_private_address_is_refused(public, private, names, connects):
    names.table["mixed.test"] = [PUBLIC_HOST, PRIVATE_HOST]

    with pytest.raises(UnsafeURL):
        safe_fetch(public.url("/", host="mixed.test"), max_bytes=1000)

    assert connects == []
    assert_untouched(public, private)


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{private}/",
        "http://2130706433:{private}/",
        "http://[::ffff:7f00:1]:{private}/",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        "http://user:secret@127.0.0.2:{public}/",
    ],
)
def test_redirects_are_checked_like_the_first_url(public, private, connects, location):
    location = location.format(private=private.port, public=public.port)
    public.routes["/jump"] = redirect(location)

    with pytest.raises(UnsafeURL) as refused:
        safe_fetch(public.url("/jump"), max_bytes=1000)

    assert refused.value.message.startswith(f"The URL redirected to {location}, which was refused.")
    assert [request.path for request in public.requests] == ["/jump"]
    assert connects == [(PUBLIC_HOST, public.port)]
    assert_untouched(private)


def test_at_most_three_redirects_are_followed(public):
    for hop in range(1, 5):
        public.routes[f"/hop/{hop}"] = redirect(f"/hop/{hop - 1}", 301 if hop % 2 else 308)
    public.routes["/hop/0"] = respond(200, b"arrived", "text/plain")

    assert safe_fetch(public.url("/hop/3"), max_bytes=100).content == b"arrived"
    public.requests.clear()
    with pytest.raises(FetchFailed) as refused:
        safe_fetch(public.url("/hop/4"), max_bytes=100)

    assert "more than 3 times" in refused.value.message
    assert [request.path for request in public.requests] == ["/hop/4", "/hop/3", "/hop/2", "/hop/1"]
    with pytest.raises(FetchFailed):
        safe_fetch(public.url("/hop/1"), max_bytes=100, max_redirects=0)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("file:///etc/passwd", "not file://"),
        ("gopher://127.0.0.2:{port}/_GET%20/", "not gopher://"),
        ("ftp://127.0.0.2:{port}/", "not ftp://"),
        ("javascript:alert(1)", "not javascript://"),
        ("//127.0.0.2:{port}/", "must start with http:// or https://"),
        ("http://user:pass@127.0.0.2:{port}/", "user name or password"),
        ("http://user@127.0.0.2:{port}/", "user name or password"),
        ("http://:pass@127.0.0.2:{port}/", "user name or password"),
        ("http://127.0.0.2:{port}\\@127.0.0.1/", "user name or password"),
        ("http://127.0.0.2:{port}/a b", "spaces or control characters"),
        ("http://[fe80::1%25lo]:{port}/", "zone"),
        ("http://1.2.3.4.5/", "neither a valid IPv4 address"),
    ],
)
def test_urls_that_are_not_plain_http_are_refused(public, connects, url, says):
    with pytest.raises(UnsafeURL) as refused:
        safe_fetch(url.format(port=public.port), max_bytes=1000)

    assert says in refused.value.message
    assert connects == []
    assert_untouched(public)


def test_ports_other_than_80_and_443_need_the_setting(public, settings, connects):
    settings.SAFE_FETCH_EXTRA_PORTS = []

    with pytest.raises(UnsafeURL) as refused:
        safe_fetch(public.url("/"), max_bytes=1000)

    assert refused.value.message == f"Port {public.port} is not allowed; only ports 80 and 443 can be fetched."
    assert connects == []
    assert_untouched(public)


def test_check_url_normalizes_without_the_network(connects):
    assert check_url("HTTP://Example.COM:80/a/é?q=1#frag") == "http://example.com/a/%C3%A9?q=1"
    with pytest.raises(UnsafeURL):
        check_url("http://10.0.0.1/")
    assert connects == []


# Caps and timeouts --------------------------------------------------------------------------------


def test_a_declared_content_length_over_the_cap_is_refused_before_reading(public):
    public.routes["/huge.png"] = respond(200, b"x" * 10_000, "image/png")

    with pytest.raises(FetchTooLarge) as refused:
        safe_fetch(public.url("/huge.png"), max_bytes=1000)

    assert refused.value.status_code == 413
    assert refused.value.message == "The file at 127.0.0.2 is 10000 bytes, more than the 1000 bytes allowed."


@pytest.mark.parametrize(
    "route",
    [
        raw(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n", [b"x" * 4096] * 64),
        raw(
            b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n",
            [b"1000\r\n" + b"x" * 4096 + b"\r\n"] * 64 + [b"0\r\n\r\n"],
        ),
    ],
    ids=["until-close", "chunked"],
)
def test_a_body_without_length_is_cut_when_it_passes_the_cap(public, route):
    public.routes["/endless.png"] = route
    received = []

    with (
        pytest.raises(FetchTooLarge) as refused,
        safe_stream(public.url("/endless.png"), max_bytes=10_000, chunk_size=4096) as stream,
    ):
        assert stream.content_length is None
        received.extend(stream)

    assert "larger than the 10000 bytes allowed" in refused.value.message
    assert sum(map(len, received)) <= 10_000


def test_a_stalled_body_times_out_after_the_read_timeout(public):
    public.routes["/stalled.png"] = raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n", [b"x" * 10], then_wait=True
    )
    started = time.monotonic()

    with pytest.raises(FetchTimeout) as refused:
        safe_fetch(public.url("/stalled.png"), max_bytes=10_000, read_timeout=0.3)

    assert 0.25 < time.monotonic() - started < 1.5
    assert refused.value.status_code == 504
    assert "sent nothing for 0.3 s" in refused.value.message


def test_a_trickling_body_stops_at_the_total_deadline(public):
    public.routes["/slow.png"] = dripping
    started = time.monotonic()

    with pytest.raises(FetchTimeout) as refused:
        safe_fetch(public.url("/slow.png"), max_bytes=10_000, read_timeout=1.0, total_timeout=0.6)

    assert 0.55 < time.monotonic() - started < 1.2
    assert "did not finish within 0.6 s" in refused.value.message


def test_a_stall_longer_than_the_remaining_time_ends_at_the_total_deadline(public):
    public.routes["/stalled.png"] = raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n", [b"x" * 10], then_wait=True
    )
    started = time.monotonic()

    with pytest.raises(FetchTimeout) as refused:
        safe_fetch(public.url("/stalled.png"), max_bytes=10_000, read_timeout=3.0, total_timeout=0.5)

    assert 0.45 < time.monotonic() - started < 1.0
    assert "did not finish within 0.5 s" in refused.value.message


# Upstream failures --------------------------------------------------------------------------------


def test_an_error_status_is_a_bad_gateway(public):
    with pytest.raises(FetchFailed) as failed:
        safe_fetch(public.url("/missing.png"), max_bytes=1000)

    assert failed.value.status_code == 502
    assert failed.value.upstream_status == 404
    assert failed.value.message == "The server at 127.0.0.2 answered 404 Not Found."


def test_a_body_shorter_than_announced_fails(public):
    public.routes["/cut.png"] = raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", [b"x" * 10])

    with pytest.raises(FetchFailed) as failed:
        safe_fetch(public.url("/cut.png"), max_bytes=1000)

    assert "sent 10 bytes of the 100" in failed.value.message


def test_a_closed_port_and_an_unknown_name_fail_cleanly(settings, names):
    with socket.socket() as probe:
        probe.bind((PUBLIC_HOST, 0))
        port = probe.getsockname()[1]
    settings.SAFE_FETCH_EXTRA_PORTS = [port]

    with pytest.raises(FetchFailed) as refused:
        safe_fetch(f"http://{PUBLIC_HOST}:{port}/", max_bytes=1000)
    with pytest.raises(FetchFailed) as unknown:
        safe_fetch("http://no-such-host.test/", max_bytes=1000)

    assert refused.value.message == f"The server at 127.0.0.2 refused the connection on port {port}."
    assert unknown.value.message == "The host no-such-host.test could not be resolved; check the URL."
    assert not isinstance(unknown.value, FetchTimeout)
    assert isinstance(unknown.value, AtelierError)


# TLS ----------------------------------------------------------------------------------------------


def _certificates(directory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)

    def builder(subject, issuer, key):
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
        )

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Atelier test CA")])
    usage = dict.fromkeys(
        [
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ],
        False,
    )
    ca = (
        builder(ca_name, ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(**{**usage, "key_cert_sign": True, "crl_sign": True}), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "images.test")]), ca_name, leaf_key)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("images.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(**{**usage, "digital_signature": True}), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = SimpleNamespace(ca=directory / "ca.pem", cert=directory / "leaf.pem", key=directory / "leaf.key")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    paths = _certificates(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(paths.cert, paths.key)
    listener = Listener(PUBLIC_HOST, tls=context)
    context.sni_callback = lambda sock, name, ctx: listener.sni.append(name)
    yield SimpleNamespace(listener=listener, ca=paths.ca)
    listener.stop()


def test_https_connects_to_the_address_but_verifies_the_host_name(tls_server, settings, names, monkeypatch):
    listener = tls_server.listener
    listener.reset()
    listener.routes["/secure.png"] = respond(200, PNG, "image/png")
    settings.SAFE_FETCH_EXTRA_PORTS = [listener.port]
    names.table["images.test"] = [PUBLIC_HOST]
    names.table["impostor.test"] = [PUBLIC_HOST]
    client = ssl.create_default_context(cafile=str(tls_server.ca))
    monkeypatch.setattr(fetch_module, "tls_context", lambda: client)

    result = safe_fetch(listener.url("/secure.png", host="images.test", scheme="https"), max_bytes=10_000)
    with pytest.raises(FetchFailed) as mismatch:
        safe_fetch(listener.url("/secure.png", host="impostor.test", scheme="https"), max_bytes=10_000)

    assert result.content == PNG
    assert listener.sni[0] == "images.test"
    assert listener.requests[0].headers["host"] == f"images.test:{listener.port}"
    assert "TLS certificate of impostor.test could not be verified" in mismatch.value.message
    assert len(listener.requests) == 1


def test_the_default_tls_context_verifies_certificates_and_names():
    context = fetch_module.tls_context()

    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


# Address and host rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        (ANY_V4, "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "shared"),
        ("127.8.9.10", "loopback"),
        ("169.254.1.1", "link-local"),
        ("192.0.0.9", "protocol-assignment"),
        ("192.0.2.1", "documentation"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.7", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("224.0.0.251", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::7f00:1", "IPv4-compatible address carrying a loopback"),
        ("::808:808", "IPv4-compatible"),
        ("64:ff9b::a00:1", "NAT64 address carrying a private"),
        ("64:ff9b:1::1", "local-use NAT64"),
        ("2002:c0a8:0101::1", "6to4 address carrying a private"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
        ("2001:db8::1", "documentation"),
        ("3fff::1", "documentation"),
        ("2001:2::1", "benchmarking"),
        ("100::1", "discard-only"),
        ("fc00::1", "unique local"),
        ("fe80::1", "link-local"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("5f00::1", "reserved"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.169.254", "metadata"),
        ("100.100.100.200", "metadata"),
    ],
)
def test_special_purpose_addresses_are_refused(address, reason):
    assert reason in (refusal_reason(ipaddress.ip_address(address)) or "")


@pytest.mark.parametrize(
    "address",
    ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"],
)
def test_public_addresses_are_allowed(address):
    assert refusal_reason(ipaddress.ip_address(address)) is None


def test_allowed_networks_make_an_address_public_but_not_the_unspecified_one():
    allowed = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("0.0.0.0/0")]

    assert refusal_reason(ipaddress.ip_address("127.0.0.2"), allowed) is None
    assert refusal_reason(ipaddress.ip_address(ANY_V4), allowed) == "the unspecified address"


@pytest.mark.parametrize(
    ("written", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0177.0.0.01", "127.0.0.1"),
        ("0x7f.0.0.0x1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("0", ANY_V4),
        ("0xa9fea9fe", "169.254.169.254"),
        ("\uff11\uff12\uff17.0.0.1", "127.0.0.1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
    ],
)
def test_numeric_hosts_are_read_as_the_address_they_denote(written, address):
    assert parse_host(written) == (str(ipaddress.ip_address(address)), ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "written", ["256.0.0.1", "1.2.3.4.5", "08.0.0.1", "1.2.3.0x100", "example.123", "4294967296", "1.2.3.256"]
)
def test_malformed_numeric_hosts_are_refused(written):
    with pytest.raises(UnsafeURL):
        parse_host(written)


def test_host_names_stay_names():
    assert parse_host("Images.Example.COM.") == ("images.example.com", None)
    assert parse_host("bücher.example") == ("xn--bcher-kva.example", None)
    assert parse_host("0x.example") == ("0x.example", None)
