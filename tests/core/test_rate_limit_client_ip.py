"""The address rate limits key on: the connection's, or the one trusted proxies put in X-Forwarded-For."""

import pytest
from django.test import RequestFactory

from apps.core.ratelimit import UNKNOWN_CLIENT, client_ip
from tests.core.dialect_support import URLCONF, api

LIMITED = "/api/v1/test-limited"


def request_from(remote: str | None, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.1", "203.0.113.9", "10.0.0.1"),
        (1, "10.0.0.1", "198.51.100.7, 203.0.113.9", "203.0.113.9"),
        (2, "10.0.0.1", "198.51.100.7, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (1, "10.0.0.1", None, "10.0.0.1"),
        (2, "10.0.0.1", "203.0.113.9", "10.0.0.1"),
        (1, "10.0.0.1", "not-an-address", "10.0.0.1"),
        (1, "10.0.0.1", " 2001:db8::1 ", "2001:db8::1"),
        (0, "", None, UNKNOWN_CLIENT),
        (0, "garbage", None, UNKNOWN_CLIENT),
    ],
)
def test_client_ip(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip(request_from(remote, forwarded)) == expected


@pytest.mark.django_db
@pytest.mark.urls(URLCONF)
def test_without_a_trusted_proxy_the_header_cannot_dodge_the_limit(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    client = api()
    statuses = [client.get(LIMITED, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code for i in range(3)]
    assert statuses == [200, 200, 429]


@pytest.mark.django_db
@pytest.mark.urls(URLCONF)
def test_behind_a_trusted_proxy_each_client_has_its_own_limit(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = api()

    def get(forwarded):
        return client.get(LIMITED, HTTP_X_FORWARDED_FOR=forwarded).status_code

    # What the client writes left of the proxy's entry changes nothing.
    assert [get("1.1.1.1, 203.0.113.1"), get("2.2.2.2, 203.0.113.1"), get("203.0.113.1")] == [200, 200, 429]
    assert get("203.0.113.2") == 200
    assert get("not an address") == 200  # the connection's own address, which has its own count
