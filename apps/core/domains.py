"""Resolving the site (Domain) a request belongs to."""

from django.core.cache import cache
from django.http import HttpRequest

from .models import Domain, DomainHost

CACHE_TTL = 60
_CACHE_KEY = "core:domain-for-host:{}"
_DEFAULT_KEY = "core:domain-default"


def _host_of(request: HttpRequest) -> str:
    try:
        host = request.get_host()
    except Exception:  # DisallowedHost is reported by Django itself; resolution falls back
        host = request.META.get("HTTP_HOST", "")
    host = host.strip().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def default_domain() -> Domain:
    domain_id = cache.get(_DEFAULT_KEY)
    if domain_id:
        domain = Domain.objects.filter(pk=domain_id, is_active=True).first()
        if domain:
            return domain
    domain = Domain.objects.filter(is_default=True).first() or Domain.objects.order_by("created_at").first()
    if domain is None:
        domain = Domain.objects.create(name="Atelier", code="default", is_default=True)
    cache.set(_DEFAULT_KEY, str(domain.pk), CACHE_TTL)
    return domain


def domain_for_host(hostname: str) -> Domain:
    key = _CACHE_KEY.format(hostname)
    domain_id = cache.get(key)
    if domain_id:
        domain = Domain.objects.filter(pk=domain_id, is_active=True).first()
        if domain:
            return domain
    host = DomainHost.objects.select_related("domain").filter(hostname=hostname, domain__is_active=True).first()
    domain = host.domain if host else default_domain()
    cache.set(key, str(domain.pk), CACHE_TTL)
    return domain


def domain_for_request(request: HttpRequest) -> Domain:
    return domain_for_host(_host_of(request))


def forget_cached_domains() -> None:
    """Called when domains or hosts change, so that new host mappings apply at once."""
    cache.delete(_DEFAULT_KEY)
    for hostname in DomainHost.objects.values_list("hostname", flat=True):
        cache.delete(_CACHE_KEY.format(hostname))
