"""Rate limits for API views, on django-ratelimit; every dialect renders an excess as 429."""

from django.utils.decorators import method_decorator
from django_ratelimit.decorators import ratelimit


def rate_limited(*, rate: str, key: str = "ip", group: str | None = None, methods=ratelimit.ALL):
    """Class decorator argument for a view handler, e.g.
    ``@method_decorator(...)`` spelled ``@rate_limited(rate="10/m")`` on ``post``.

    ``rate`` may be a callable ``(group, request) -> str`` (django-ratelimit semantics), which lets
    signed-in users and guests have different limits.
    """
    return method_decorator(ratelimit(key=key, rate=rate, group=group, method=methods, block=True))
