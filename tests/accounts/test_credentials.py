"""API sessions, bearer tokens and admin keys: how each is resolved, stored and refused."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import include, path
from django.utils import timezone
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from apps.accounts import selectors, services
from apps.accounts.models import AccessToken, AdminKey, ApiSession
from apps.core.dialects.aimg import AimgView
from apps.core.dialects.sartiq import SartiqView
from apps.core.domains import default_domain
from tests.factories import DomainFactory, DomainHostFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


class _AimgWhoAmI(AimgView):
    permission_classes = (AllowAny,)

    def get(self, request):
        user = request.user
        session = request.auth.session if request.auth else None
        return Response(
            {
                "user": user.email if user.is_authenticated else None,
                "session": str(session.pk) if session else None,
                "adminKey": request.auth.admin_key.prefix if request.auth and request.auth.admin_key else None,
            }
        )


class _SartiqWhoAmI(SartiqView):
    permission_classes = (IsAuthenticated,)

    def get(self, request):
        return Response({"email": request.user.email})


urlpatterns = [
    path("test/aimg-whoami", _AimgWhoAmI.as_view()),
    path("api/v1/test-whoami", _SartiqWhoAmI.as_view()),
    path("", include("config.urls")),
]
AIMG = "/test/aimg-whoami"
SARTIQ = "/api/v1/test-whoami"


def _aimg_ok(payload):
    return {"hasError": False, "errorMessage": None, "payload": payload}


def _aimg_error(message):
    return {"hasError": True, "errorMessage": message, "payload": None}


def _row_text(model, pk) -> str:
    """Every column of the stored row, as the database returns it."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk.hex if connection.vendor == "sqlite" else pk])  # noqa: S608
        return " ".join(str(value) for value in cursor.fetchone())


# --- API sessions --------------------------------------------------------------------------------


@pytest.mark.urls(__name__)
def test_a_signed_in_session_authenticates_its_user(api_client):
    user = UserFactory()
    session = services.create_session(domain=default_domain(), user=user)
    response = api_client.get(AIMG, HTTP_X_SESSION_ID=str(session.pk))
    assert response.status_code == 200
    assert response.json() == _aimg_ok({"user": user.email, "session": str(session.pk), "adminKey": None})


@pytest.mark.urls(__name__)
def test_a_guest_session_is_a_session_without_a_user(api_client):
    session = services.create_session(domain=default_domain())
    response = api_client.get(AIMG, HTTP_X_SESSION_ID=str(session.pk))
    assert response.json() == _aimg_ok({"user": None, "session": str(session.pk), "adminKey": None})


def _revoked():
    session = services.create_session(domain=default_domain(), user=UserFactory())
    services.revoke_sessions(user=session.user)
    return session


def _expired():
    session = services.create_session(domain=default_domain(), user=UserFactory())
    ApiSession.objects.filter(pk=session.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return session


def _of_a_deleted_user():
    session = services.create_session(domain=default_domain(), user=UserFactory())
    session.user.delete()
    return session


def _of_an_inactive_user():
    session = services.create_session(domain=default_domain(), user=UserFactory(is_active=False))
    return session


def _of_another_domain():
    site = DomainFactory()
    return services.create_session(domain=site, user=UserFactory(domain=site))


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("make", [_revoked, _expired, _of_a_deleted_user, _of_an_inactive_user, _of_another_domain])
def test_unusable_sessions_are_anonymous(api_client, make):
    session = make()
    response = api_client.get(AIMG, HTTP_X_SESSION_ID=str(session.pk))
    assert response.status_code == 200
    assert response.json() == _aimg_ok({"user": None, "session": None, "adminKey": None})


@pytest.mark.urls(__name__)
def test_an_unknown_session_is_anonymous(api_client):
    response = api_client.get(AIMG, HTTP_X_SESSION_ID="0b9e2a54-54a4-4f39-9e8a-3c1c8d1f6a11")
    assert response.json() == _aimg_ok({"user": None, "session": None, "adminKey": None})


@pytest.mark.urls(__name__)
def test_a_malformed_session_id_is_a_401(api_client):
    response = api_client.get(AIMG, HTTP_X_SESSION_ID="not-a-uuid")
    assert response.status_code == 401
    assert response.json() == _aimg_error("The X-Session-ID header must be a valid UUID.")


def test_active_session_selector_touches_last_seen_at_at_most_every_few_minutes():
    session = services.create_session(domain=default_domain(), user=UserFactory())
    old = timezone.now() - timedelta(hours=1)
    ApiSession.objects.filter(pk=session.pk).update(last_seen_at=old)
    found = selectors.active_session(session_id=session.pk, domain=default_domain())
    assert found == session
    first_touch = ApiSession.objects.get(pk=session.pk).last_seen_at
    assert first_touch > old
    selectors.active_session(session_id=session.pk, domain=default_domain())
    assert ApiSession.objects.get(pk=session.pk).last_seen_at == first_touch


def test_revoke_sessions_can_keep_the_current_one():
    user = UserFactory()
    current = services.create_session(domain=default_domain(), user=user)
    others = [services.create_session(domain=default_domain(), user=user) for _ in range(2)]
    stranger = services.create_session(domain=default_domain(), user=UserFactory())

    assert services.revoke_sessions(user=user, keep=current) == 2
    assert set(ApiSession.objects.usable().values_list("pk", flat=True)) == {current.pk, stranger.pk}
    assert all(ApiSession.objects.get(pk=s.pk).revoked_at for s in others)


# --- bearer tokens -------------------------------------------------------------------------------


def test_a_token_is_stored_only_as_a_hash():
    token, secret = services.issue_access_token(user=UserFactory(), name="ci")
    prefix, _, key = secret.partition(".")
    assert prefix == token.prefix
    assert prefix.startswith("atk_")
    assert len(key) >= 43  # 32 random bytes

    stored = _row_text(AccessToken, token.pk)
    assert key not in stored
    assert secret not in stored
    assert token.secret_hash == AccessToken.hash_key(key)
    assert len(token.secret_hash) == 64
    assert token.expires_at > timezone.now() + timedelta(days=7)


@pytest.mark.urls(__name__)
def test_a_token_authenticates_its_user(api_client):
    user = UserFactory()
    token, secret = services.issue_access_token(user=user)
    response = api_client.get(SARTIQ, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    assert response.json() == {"email": user.email}
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda token, secret: (services.revoke_access_token(token=token), secret)[1], id="revoked"),
        pytest.param(
            lambda token, secret: (
                AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1)),
                secret,
            )[1],
            id="expired",
        ),
        pytest.param(lambda token, secret: secret[:-1] + ("A" if secret[-1] != "A" else "B"), id="wrong-key"),
        pytest.param(lambda token, secret: secret.partition(".")[2], id="key-without-prefix"),
        pytest.param(lambda token, secret: token.secret_hash, id="the-stored-hash"),
        pytest.param(lambda token, secret: (token.user.delete(), secret)[1], id="deleted-user"),
        pytest.param(
            lambda token, secret: (type(token.user).objects.filter(pk=token.user_id).update(is_active=False), secret)[
                1
            ],
            id="inactive-user",
        ),
    ],
)
def test_unusable_tokens_are_refused(api_client, spoil):
    token, secret = services.issue_access_token(user=UserFactory())
    response = api_client.get(SARTIQ, HTTP_AUTHORIZATION=f"Bearer {spoil(token, secret)}")
    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials."}


@pytest.mark.urls(__name__)
def test_a_malformed_bearer_header_is_refused(api_client):
    response = api_client.get(SARTIQ, HTTP_AUTHORIZATION="Bearer two parts")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid bearer header: it must be 'Bearer <token>'."}


def test_revoking_a_token_twice_counts_once():
    token, _ = services.issue_access_token(user=UserFactory())
    assert services.revoke_access_token(token=token) is True
    assert services.revoke_access_token(token=token) is False


# --- admin keys ----------------------------------------------------------------------------------


def test_admin_keys_are_only_for_staff():
    from apps.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="only issued to staff"):
        services.create_admin_key(user=UserFactory())
    assert not AdminKey.objects.exists()


def test_an_admin_key_is_stored_only_as_a_hash():
    key, secret = services.create_admin_key(user=StaffFactory(), name="ops")
    prefix, _, plain = secret.partition(".")
    assert prefix == key.prefix
    assert prefix.startswith("akey_")
    stored = _row_text(AdminKey, key.pk)
    assert plain not in stored
    assert secret not in stored
    assert key.secret_hash == AdminKey.hash_key(plain)


@pytest.mark.urls(__name__)
def test_an_admin_key_authenticates_as_its_staff_owner(api_client):
    staff = StaffFactory()
    key, secret = services.create_admin_key(user=staff)
    response = api_client.get(AIMG, HTTP_X_ADMINISTRATION_KEY=secret)
    assert response.status_code == 200
    assert response.json() == _aimg_ok({"user": staff.email, "session": None, "adminKey": key.prefix})


@pytest.mark.urls(__name__)
def test_an_admin_key_works_on_every_domain(api_client):
    site = DomainFactory()
    DomainHostFactory(domain=site, hostname="api.other.test")
    staff = StaffFactory()
    _, secret = services.create_admin_key(user=staff)
    response = api_client.get(AIMG, HTTP_X_ADMINISTRATION_KEY=secret, HTTP_HOST="api.other.test")
    assert response.json()["payload"]["user"] == staff.email


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda key, secret: (services.revoke_admin_keys(prefix=key.prefix), secret)[1], id="revoked"),
        pytest.param(
            lambda key, secret: (
                AdminKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1)),
                secret,
            )[1],
            id="expired",
        ),
        pytest.param(
            lambda key, secret: (type(key.user).objects.filter(pk=key.user_id).update(is_staff=False), secret)[1],
            id="owner-no-longer-staff",
        ),
        pytest.param(lambda key, secret: secret + "x", id="wrong-key"),
        pytest.param(lambda key, secret: "nonsense", id="garbage"),
    ],
)
def test_unusable_admin_keys_are_refused(api_client, spoil):
    key, secret = services.create_admin_key(user=StaffFactory())
    response = api_client.get(AIMG, HTTP_X_ADMINISTRATION_KEY=spoil(key, secret))
    assert response.status_code == 401
    assert response.json() == _aimg_error("The administration key is not valid.")


def test_revoke_admin_keys_needs_a_target():
    from apps.core.errors import InvalidInput

    key, _ = services.create_admin_key(user=StaffFactory())
    with pytest.raises(InvalidInput):
        services.revoke_admin_keys()
    key.refresh_from_db()
    assert key.revoked_at is None


def test_revoke_admin_keys_of_one_user():
    staff, other = StaffFactory(), StaffFactory()
    mine = [services.create_admin_key(user=staff)[0] for _ in range(2)]
    theirs, _ = services.create_admin_key(user=other)
    assert services.revoke_admin_keys(user=staff) == 2
    assert set(AdminKey.objects.usable().values_list("pk", flat=True)) == {theirs.pk}
    assert all(AdminKey.objects.get(pk=k.pk).revoked_at for k in mine)
