"""Resolving the site (Domain) a request belongs to.

Resolutions are cached under a generation key: any change to a domain or a host (saved or deleted,
renamed or moved) starts a new generation, so no stale mapping survives a change, including the
mappings of host names that no longer exist.
"""

import re
import uuid

from django.core.cache import cache
from django.http import HttpRequest

from .models import Domain, DomainHost, normalize_hostname

CACHE_TTL = 60
_GENERATION_KEY = "core:domains-generation"
_HOST_KEY = "core:domain-for-host:{}"
_DEFAULT_KEY = "core:domain-default"

# A host name as Django accepts it (letters, digits, dots, dashes; or a bracketed IPv6 literal).
_HOSTNAME = re.compile(r"^(?:[a-z0-9.-]{1,253}|\[[a-f0-9:.]+\])$")


def _host_of(request: HttpRequest) -> str:
    try:
        host = request.get_host()
    except Exception:  # DisallowedHost is reported by Django itself; resolution falls back
        host = request.META.get("HTTP_HOST", "")
    return normalize_hostname(host)


def _lookup(key: str) -> tuple[Domain | None, str]:
    """(the cached domain or None, the current generation), in one cache round trip."""
    values = cache.get_many([_GENERATION_KEY, key])
    generation, entry = values.get(_GENERATION_KEY), values.get(key)
    if generation is None:
        cache.add(_GENERATION_KEY, uuid.uuid4().hex, None)
        return None, cache.get(_GENERATION_KEY)
    if entry and entry[0] == generation:
        return entry[1], generation
    return None, generation


def default_domain() -> Domain:
    """The domain of requests whose host matches none (created on first use if there is none)."""
    domain, generation = _lookup(_DEFAULT_KEY)
    if domain is not None:
        return domain
    domain = Domain.objects.filter(is_default=True).first() or Domain.objects.order_by("created_at").first()
    if domain is None:
        domain, _ = Domain.objects.get_or_create(code="default", defaults={"name": "Atelier", "is_default": True})
    # Tagged with the generation read before the query: a change made meanwhile makes it stale.
    cache.set(_DEFAULT_KEY, (generation, domain), CACHE_TTL)
    return domain


def domain_for_host(hostname: str) -> Domain:
    hostname = normalize_hostname(hostname)
    if not _HOSTNAME.match(hostname):
        # Not a host name anyone could have registered; not worth a cache entry either.
        return default_domain()
    key = _HOST_KEY.format(hostname)
    domain, generation = _lookup(key)
    if domain is not None:
        return domain
    host = DomainHost.objects.select_related("domain").filter(hostname=hostname, domain__is_active=True).first()
    domain = host.domain if host else default_domain()
    cache.set(key, (generation, domain), CACHE_TTL)
    return domain


def domain_for_request(request: HttpRequest) -> Domain:
    return domain_for_host(_host_of(request))


def forget_cached_domains() -> None:
    """Called when domains or hosts change, so that new host mappings apply at once."""
    cache.set(_GENERATION_KEY, uuid.uuid4().hex, None)
