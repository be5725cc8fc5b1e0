"""Rate limits for API views, on django-ratelimit; every dialect renders an excess as 429."""

import ipaddress

from django.conf import settings
from django.utils.decorators import method_decorator
from django_ratelimit.decorators import ratelimit

# The key of requests whose address cannot be known (a Unix socket without a proxy header).
UNKNOWN_CLIENT = "0.0.0.0"  # noqa: S104 (a rate-limit key, nothing listens on it)


def _ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The client address rate limits key on (``RATELIMIT_IP_META_KEY``).

    Behind ``TRUSTED_PROXY_COUNT`` reverse proxies, each appending the address it received the
    request from to ``X-Forwarded-For``, the client is that many entries from the right; entries
    further left were written by the client and are ignored. With no trusted proxy the header is
    ignored and the connection's address is used. Always a valid IP address, so a malformed header
    can neither crash the limit nor pick its own key.
    """
    remote = _ip(request.META.get("REMOTE_ADDR") or "") or UNKNOWN_CLIENT
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    return _ip(forwarded[-count]) or remote


def rate_limited(*, rate: str, key: str = "ip", group: str | None = None, methods=ratelimit.ALL):
    """Decorates a handler method of a view class, e.g. ``@rate_limited(rate="10/m")`` on ``post``.

    An exceeded limit raises django-ratelimit's ``Ratelimited``, which the dialect's exception
    handler answers with 429 (DRF alone would answer 403, as it is a ``PermissionDenied``).

    ``rate`` may be a callable ``(group, request) -> str`` (django-ratelimit semantics), which lets
    signed-in users and guests have different limits.
    """
    return method_decorator(ratelimit(key=key, rate=rate, group=group, method=methods, block=True))
