"""Staff commands of the accounts app: create_admin_key, revoke_admin_key, revoke_sessions."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import include, path
from rest_framework.response import Response

from apps.accounts import services
from apps.accounts.models import AdminKey, ApiSession
from apps.core.dialects.aimg import AimgView
from apps.core.dialects.permissions import has_perm
from apps.core.domains import default_domain
from tests.factories import DomainFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


class _ModerateUsers(AimgView):
    """A view that needs the moderate_user permission: an admin key acts with its owner's."""

    permission_classes = (has_perm("accounts.moderate_user"),)

    def get(self, request):
        return Response({"actingAs": request.user.email})


urlpatterns = [path("test/moderate", _ModerateUsers.as_view()), path("", include("config.urls"))]


def _run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.urls(__name__)
def test_create_admin_key_prints_the_key_once_and_it_works(api_client):
    from django.contrib.auth.models import Group

    staff = StaffFactory(email="ops@example.com")
    staff.groups.add(Group.objects.get(name="moderator"))

    out, err = _run("create_admin_key", "--email", "OPS@example.com", "--name", "laptop")

    secret = out.strip()
    assert out == secret + "\n"  # only the key on stdout, so that it can be piped
    key = AdminKey.objects.get(user=staff)
    assert key.name == "laptop"
    assert secret.startswith(key.prefix + ".")
    assert err == f"Created admin key {key.prefix} for ops@example.com. It is shown once; store it now:\n"
    assert secret.partition(".")[2] not in key.secret_hash

    response = api_client.get("/test/moderate", HTTP_X_ADMINISTRATION_KEY=secret)
    assert response.status_code == 200
    assert response.json() == {"hasError": False, "errorMessage": None, "payload": {"actingAs": "ops@example.com"}}


@pytest.mark.urls(__name__)
def test_an_admin_key_gives_no_more_than_its_owners_permissions(api_client):
    StaffFactory(email="plain-staff@example.com")
    out, _ = _run("create_admin_key", "--email", "plain-staff@example.com")
    response = api_client.get("/test/moderate", HTTP_X_ADMINISTRATION_KEY=out.strip())
    assert response.status_code == 403
    assert response.json() == {
        "hasError": True,
        "errorMessage": "You are not allowed to access the requested resource.",
        "payload": None,
    }


def test_create_admin_key_refuses_non_staff():
    UserFactory(email="someone@example.com")
    with pytest.raises(CommandError, match="only issued to staff users"):
        _run("create_admin_key", "--email", "someone@example.com")
    assert not AdminKey.objects.exists()


def test_create_admin_key_for_an_unknown_user():
    with pytest.raises(CommandError, match=r"No user nobody@example\.com on the domain 'default'"):
        _run("create_admin_key", "--email", "nobody@example.com")


def test_create_admin_key_on_another_domain():
    site = DomainFactory(code="studio")
    staff = StaffFactory(email="ops@example.com", domain=site)
    out, _ = _run("create_admin_key", "--email", "ops@example.com", "--domain", "studio")
    assert AdminKey.objects.get().user == staff
    assert out.strip().startswith(AdminKey.objects.get().prefix)
    with pytest.raises(CommandError, match="No domain with the code 'nowhere'"):
        _run("create_admin_key", "--email", "ops@example.com", "--domain", "nowhere")


def test_revoke_admin_key_by_prefix():
    staff = StaffFactory()
    first, _ = services.create_admin_key(user=staff)
    second, _ = services.create_admin_key(user=staff)

    out, _ = _run("revoke_admin_key", "--prefix", first.prefix)

    assert out == "Revoked 1 admin key(s).\n"
    assert list(AdminKey.objects.usable()) == [second]
    out, _ = _run("revoke_admin_key", "--prefix", first.prefix)
    assert out == "Revoked 0 admin key(s).\n"


def test_revoke_admin_key_by_owner():
    staff, other = StaffFactory(email="ops@example.com"), StaffFactory()
    services.create_admin_key(user=staff)
    services.create_admin_key(user=staff)
    kept, _ = services.create_admin_key(user=other)

    out, _ = _run("revoke_admin_key", "--email", "ops@example.com")

    assert out == "Revoked 2 admin key(s).\n"
    assert list(AdminKey.objects.usable()) == [kept]


def test_revoke_admin_key_needs_a_target():
    services.create_admin_key(user=StaffFactory())
    with pytest.raises(CommandError, match="Give --prefix or --email"):
        _run("revoke_admin_key")
    assert AdminKey.objects.usable().count() == 1


def test_revoke_sessions():
    user = UserFactory(email="alice@example.com")
    for _ in range(3):
        services.create_session(domain=default_domain(), user=user)
    other = services.create_session(domain=default_domain(), user=UserFactory())

    out, _ = _run("revoke_sessions", "--email", "alice@example.com")

    assert out == "Revoked 3 session(s) of alice@example.com.\n"
    assert list(ApiSession.objects.usable()) == [other]
    out, _ = _run("revoke_sessions", "--email", "alice@example.com")
    assert out == "Revoked 0 session(s) of alice@example.com.\n"


def test_createsuperuser_works_when_the_email_exists_on_another_domain(monkeypatch):
    from apps.accounts.models import User

    UserFactory(email="root@example.com", domain=DomainFactory())
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Zebra-Tulip-492")
    out, _ = _run("createsuperuser", "--email", "root@example.com", "--noinput")

    assert out == "Superuser created successfully.\n"
    root = User.objects.get(email="root@example.com", domain=default_domain())
    assert (root.is_staff, root.is_superuser) == (True, True)
    assert User.objects.filter(email="root@example.com").count() == 2
