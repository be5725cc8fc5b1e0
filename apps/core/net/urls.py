"""Parsing a user-supplied URL into what the fetcher needs: scheme, host, port and request target.

Hosts are read the way browsers (WHATWG URL) and the C resolver read them, so that a host written
as a number in any base ("2130706433", "0x7f000001", "017700000001", "127.1") is understood as the
IPv4 address it denotes instead of being handed to DNS.
"""

import ipaddress
import re
from dataclasses import dataclass, replace
from urllib.parse import quote, urlsplit

from .addresses import IPAddress
from .errors import UnsafeURL

SCHEMES = {"http": 80, "https": 443}
MAX_URL_LENGTH = 8192

_FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x20\x7f]")
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
_DIGITS = re.compile(r"[0-9]+")
_HEX = re.compile(r"0[xX][0-9a-fA-F]*")
# Printable ASCII stays as written (existing %-escapes included); anything else is percent-encoded.
_TARGET_SAFE = "".join(chr(code) for code in range(0x21, 0x7F))


@dataclass(frozen=True)
class Target:
    """One hop of a fetch: where to connect and what to ask for."""

    url: str  # normalized: no credentials, no fragment, default port omitted
    scheme: str
    written_host: str  # the host as it appears in the URL (lower-cased), for messages
    host: str  # ASCII host name, or the canonical text of an IP address
    address: IPAddress | None  # set when the host is an IP address (no DNS involved)
    port: int
    request_target: str  # path and query, as sent on the request line

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if isinstance(self.address, ipaddress.IPv6Address) else self.host
        return host if self.port == SCHEMES[self.scheme] else f"{host}:{self.port}"


def parse_url(url: str) -> Target:
    """The fetch target for ``url``; raises UnsafeURL when the URL is malformed or not http(s)."""
    if not isinstance(url, str) or not url:
        raise UnsafeURL("The URL is empty.")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if _FORBIDDEN_CHARACTERS.search(url):
        raise UnsafeURL("The URL contains spaces or control characters; percent-encode them.")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UnsafeURL("The URL is malformed.") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise UnsafeURL("The URL must start with http:// or https://.")
    if scheme not in SCHEMES:
        raise UnsafeURL(f"Only http and https URLs can be fetched, not {scheme}:// URLs.")
    netloc = parts.netloc
    if "@" in netloc:
        raise UnsafeURL("URLs with a user name or password (user:password@host) are not accepted; remove them.")
    if not netloc:
        raise UnsafeURL("The URL has no host.")
    written_host, port_text = _split_netloc(netloc)
    host, address = parse_host(written_host)
    port = _parse_port(port_text, default=SCHEMES[scheme])
    request_target = quote(parts.path or "/", safe=_TARGET_SAFE)
    if parts.query:
        request_target += "?" + quote(parts.query, safe=_TARGET_SAFE)
    target = Target(
        url="",
        scheme=scheme,
        written_host=written_host.lower(),
        host=host,
        address=address,
        port=port,
        request_target=request_target,
    )
    return replace(target, url=f"{scheme}://{target.host_header}{request_target}")


def _split_netloc(netloc: str) -> tuple[str, str]:
    if netloc.startswith("["):
        end = netloc.find("]")
        if end == -1:
            raise UnsafeURL("The URL's IPv6 host is missing its closing bracket.")
        rest = netloc[end + 1 :]
        if rest and not rest.startswith(":"):
            raise UnsafeURL("The URL's host is malformed.")
        return netloc[: end + 1], rest[1:]
    host, _, port = netloc.partition(":")
    if ":" in port:
        raise UnsafeURL("The URL's host is malformed; write IPv6 addresses in brackets, e.g. http://[2001:db8::1]/.")
    return host, port


def _parse_port(text: str, *, default: int) -> int:
    if not text:
        return default
    if not _DIGITS.fullmatch(text) or not 0 < int(text) <= 65535:
        raise UnsafeURL(f"The URL's port {text!r} is not a valid port number.")
    return int(text)


def parse_host(written: str) -> tuple[str, IPAddress | None]:
    """(ASCII host, IP address or None) for a URL host; raises UnsafeURL when it is not a valid host."""
    if written.startswith("[") and written.endswith("]"):
        inner = written[1:-1]
        if "%" in inner:
            raise UnsafeURL("IPv6 zone identifiers (%) are not accepted in URLs.")
        try:
            address = ipaddress.IPv6Address(inner)
        except ValueError:
            raise UnsafeURL(f"The host {written} is not a valid IPv6 address.") from None
        return str(address), address
    host = written.lower()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsafeURL(f"The host {written!r} is not a valid host name.") from None
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise UnsafeURL("The URL has no host.")
    if _ends_in_number(host):
        address = _parse_ipv4(host)
        if address is None:
            raise UnsafeURL(f"The host {written!r} is neither a valid IPv4 address nor a host name.")
        return str(address), address
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UnsafeURL(f"The host {written!r} is not a valid host name.")
    return host, None


def _ends_in_number(host: str) -> bool:
    last = host.rsplit(".", 1)[-1]
    return bool(_DIGITS.fullmatch(last) or _HEX.fullmatch(last))


def _ipv4_number(part: str) -> int | None:
    if not part:
        return None
    if part[:2].lower() == "0x":
        digits, base = part[2:], 16
        if not digits:
            return 0
    elif len(part) > 1 and part[0] == "0":
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    try:
        return int(digits, base) if digits.isalnum() and digits.isascii() else None
    except ValueError:
        return None


def _parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The WHATWG IPv4 parser (the same reading as inet_aton): 1 to 4 parts, each decimal, 0-octal or 0x-hex."""
    parts = host.split(".")
    if len(parts) > 4:
        return None
    numbers = [_ipv4_number(part) for part in parts]
    if any(number is None for number in numbers):
        return None
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number * 256 ** (3 - index)
    return ipaddress.IPv4Address(value)
