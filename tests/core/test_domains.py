"""Domains: request.domain from the Host header, one default domain, per-domain identities,
allowed front-end origins, cache invalidation, and sign-in scoped to the request's domain."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import include, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.accounts.models import AccessToken, User
from apps.core.dialects.sartiq import SartiqView
from apps.core.domains import default_domain, domain_for_host, domain_for_request
from apps.core.middleware import DomainMiddleware
from apps.core.models import Domain, DomainHost
from tests.factories import PASSWORD, DomainFactory, DomainHostFactory, UserFactory

pytestmark = pytest.mark.django_db
LOGIN = "/api/v1/login/access-token"


class _WhoAmI(SartiqView):
    permission_classes = (IsAuthenticated,)

    def get(self, request):
        return Response({"email": request.user.email, "domain": request.user.domain.code})


urlpatterns = [
    path("api/v1/test-whoami", _WhoAmI.as_view()),
    path("", include("config.urls")),
]


@pytest.fixture
def two_sites():
    site_a = DomainFactory(code="site-a")
    site_b = DomainFactory(code="site-b")
    DomainHostFactory(domain=site_a, hostname="api.site-a.test")
    DomainHostFactory(domain=site_b, hostname="api.site-b.test")
    return site_a, site_b


def _resolve(host: str) -> Domain:
    request = RequestFactory().get("/", HTTP_HOST=host)
    DomainMiddleware(lambda req: None)(request)
    return request.domain


# --- resolution ----------------------------------------------------------------------------------


def test_the_default_domain_comes_from_the_migrations():
    domain = default_domain()
    assert (domain.code, domain.is_default) == ("default", True)
    assert sorted(domain.hosts.values_list("hostname", flat=True)) == ["127.0.0.1", "localhost"]


@pytest.mark.parametrize("host", ["api.site-b.test", "API.Site-B.test", "api.site-b.test:8443", "api.site-b.test."])
def test_request_domain_from_the_host_header(two_sites, host):
    assert _resolve(host).pk == two_sites[1].pk


@pytest.mark.parametrize("host", ["unknown.test", "site-b.test", "api.site-b.test.evil.test", "bad host!", ""])
def test_unknown_hosts_fall_back_to_the_default_domain(two_sites, host):
    assert _resolve(host).pk == default_domain().pk


def test_ipv6_hosts_resolve_without_their_port():
    site = DomainFactory()
    DomainHostFactory(domain=site, hostname="[::1]")
    assert _resolve("[::1]:8000").pk == site.pk


def test_an_inactive_domain_serves_no_host(two_sites):
    site_a, _ = two_sites
    site_a.is_active = False
    site_a.save()
    assert domain_for_host("api.site-a.test").pk == default_domain().pk


def test_request_domain_is_resolved_only_when_used(django_assert_num_queries, two_sites):
    request = RequestFactory().get("/", HTTP_HOST="api.site-a.test")
    with django_assert_num_queries(0):
        DomainMiddleware(lambda req: None)(request)
    assert domain_for_request(request).pk == two_sites[0].pk


def test_host_names_are_stored_normalized():
    host = DomainHostFactory(hostname="  API.Example.COM.  ")
    host.full_clean()
    host.refresh_from_db()
    assert host.hostname == "api.example.com"


@pytest.mark.parametrize(
    "value", ["https://api.example.com", "api.example.com:8000", "api.example.com/path", "api example.com", "-bad.com"]
)
def test_host_names_with_more_than_a_host_are_refused(value):
    host = DomainHost(domain=default_domain(), hostname=value)
    with pytest.raises(ValidationError) as excinfo:
        host.full_clean()
    assert "hostname" in excinfo.value.message_dict


def test_a_host_name_belongs_to_one_domain_whatever_its_case(two_sites):
    with transaction.atomic(), pytest.raises(IntegrityError):
        DomainHost.objects.bulk_create([DomainHost(domain=two_sites[1], hostname="API.SITE-A.TEST")])


# --- caching -------------------------------------------------------------------------------------


def test_resolutions_are_cached(django_assert_num_queries, two_sites):
    domain_for_host("api.site-a.test")
    domain_for_host("unknown.test")
    with django_assert_num_queries(0):
        assert domain_for_host("api.site-a.test").pk == two_sites[0].pk
        assert domain_for_host("unknown.test").pk == default_domain().pk


def test_moving_a_host_applies_at_once(two_sites):
    site_a, site_b = two_sites
    assert domain_for_host("api.site-a.test").pk == site_a.pk
    host = DomainHost.objects.get(hostname="api.site-a.test")
    host.domain = site_b
    host.save()
    assert domain_for_host("api.site-a.test").pk == site_b.pk


def test_a_deleted_host_stops_resolving_at_once(two_sites):
    assert domain_for_host("api.site-a.test").pk == two_sites[0].pk
    DomainHost.objects.get(hostname="api.site-a.test").delete()
    assert domain_for_host("api.site-a.test").pk == default_domain().pk


def test_a_renamed_host_releases_its_old_name_at_once(two_sites):
    assert domain_for_host("api.site-a.test").pk == two_sites[0].pk
    host = DomainHost.objects.get(hostname="api.site-a.test")
    host.hostname = "www.site-a.test"
    host.save()
    assert domain_for_host("api.site-a.test").pk == default_domain().pk
    assert domain_for_host("www.site-a.test").pk == two_sites[0].pk


def test_a_new_host_for_a_name_seen_before_applies_at_once(two_sites):
    assert domain_for_host("new.site-b.test").pk == default_domain().pk
    DomainHostFactory(domain=two_sites[1], hostname="new.site-b.test")
    assert domain_for_host("new.site-b.test").pk == two_sites[1].pk


def test_a_deleted_domain_stops_resolving_at_once(two_sites):
    site_a, _ = two_sites
    assert domain_for_host("api.site-a.test").pk == site_a.pk
    site_a.delete()
    assert domain_for_host("api.site-a.test").pk == default_domain().pk


def test_domain_changes_are_seen_at_once(two_sites):
    site_a, _ = two_sites
    assert domain_for_host("api.site-a.test").frontend_origins == ["https://site-a.example.com"]
    site_a.frontend_origins = ["https://new.site-a.test"]
    site_a.save()
    assert domain_for_host("api.site-a.test").frontend_origins == ["https://new.site-a.test"]


def test_changing_the_default_domain_applies_at_once():
    old = default_domain()
    old.is_default = False
    old.save()
    new = DomainFactory(is_default=True)
    assert default_domain().pk == new.pk
    assert domain_for_host("unknown.test").pk == new.pk


# --- constraints ---------------------------------------------------------------------------------


def test_only_one_default_domain():
    assert Domain.objects.filter(is_default=True).count() == 1
    with transaction.atomic(), pytest.raises(IntegrityError):
        DomainFactory(is_default=True)
    DomainFactory(is_default=False)
    DomainFactory(is_default=False)
    assert Domain.objects.filter(is_default=True).count() == 1


def test_an_email_exists_once_per_domain_whatever_its_case():
    UserFactory(email="Same@Example.com")
    with transaction.atomic(), pytest.raises(IntegrityError):
        UserFactory(email="same@example.COM")


def test_the_same_email_may_exist_on_two_domains(two_sites):
    site_a, site_b = two_sites
    UserFactory(email="same@example.com", domain=site_a)
    UserFactory(email="same@example.com", domain=site_b)
    assert User.objects.filter(email="same@example.com").count() == 2


def test_a_deleted_user_frees_the_email():
    old = UserFactory(email="again@example.com")
    old.delete()
    new = UserFactory(email="again@example.com")
    assert User.all_objects.filter(email="again@example.com").count() == 2
    assert list(User.objects.filter(email="again@example.com")) == [new]


# --- origins -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://app.example.com", True),
        ("https://app.example.com/", True),
        ("https://APP.Example.com/library?x=1#top", True),
        ("https://app.example.com:443/path", True),
        ("http://localhost:5173/callback", True),
        ("http://localhost:5174/callback", False),
        ("http://localhost/callback", False),
        ("http://app.example.com", False),
        ("https://app.example.com.evil.test", False),
        ("https://evil.test/?next=https://app.example.com", False),
        ("https://app.example.com@evil.test", False),
        ("https://evil.test@app.example.com", False),
        ("https://evil.test\\@app.example.com", False),
        ("javascript:alert(1)//https://app.example.com", False),
        ("//app.example.com", False),
        ("app.example.com", False),
        ("https://app.example.com:99999", False),
        ("", False),
    ],
)
def test_allows_origin(url, allowed):
    domain = Domain(frontend_origins=["https://app.example.com/", "http://localhost:5173"])
    assert domain.allows_origin(url) is allowed


def test_no_origin_is_allowed_without_configured_origins():
    assert Domain(frontend_origins=[]).allows_origin("https://app.example.com") is False


# --- sign-in per domain --------------------------------------------------------------------------


@pytest.fixture
def twins(two_sites):
    site_a, site_b = two_sites
    return (
        UserFactory(email="twin@example.com", username="twin", domain=site_a),
        UserFactory(email="twin@example.com", username="twin", domain=site_b),
    )


@pytest.mark.parametrize("site", [0, 1])
def test_login_gives_a_token_of_the_user_of_the_hosts_domain(api_client, twins, site):
    host = ["api.site-a.test", "api.site-b.test"][site]
    response = api_client.post(LOGIN, {"username": "twin@example.com", "password": PASSWORD}, HTTP_HOST=host)
    assert response.status_code == 200
    secret = response.json()["access_token"]
    token = AccessToken.objects.get(prefix=secret.partition(".")[0])
    assert token.user == twins[site]


def test_login_on_a_domain_without_that_user_fails(api_client, twins):
    response = api_client.post(LOGIN, {"username": "twin@example.com", "password": PASSWORD}, HTTP_HOST="unknown.test")
    assert response.status_code == 400
    assert response.json() == {"detail": "Incorrect email or password"}


@pytest.mark.urls(__name__)
def test_a_bearer_token_works_only_on_its_own_domain(api_client, twins):
    login = api_client.post(LOGIN, {"username": "twin@example.com", "password": PASSWORD}, HTTP_HOST="api.site-a.test")
    auth = f"Bearer {login.json()['access_token']}"

    own = api_client.get("/api/v1/test-whoami", HTTP_HOST="api.site-a.test", HTTP_AUTHORIZATION=auth)
    assert own.status_code == 200
    assert own.json() == {"email": "twin@example.com", "domain": "site-a"}

    other = api_client.get("/api/v1/test-whoami", HTTP_HOST="api.site-b.test", HTTP_AUTHORIZATION=auth)
    assert other.status_code == 401
    assert other.json() == {"detail": "Could not validate credentials."}
    assert other["WWW-Authenticate"] == "Bearer"

    anonymous = api_client.get("/api/v1/test-whoami", HTTP_HOST="api.site-a.test")
    assert anonymous.status_code == 401
    assert anonymous.json() == {"detail": "Authentication credentials were not provided."}
