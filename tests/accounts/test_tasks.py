"""purge_expired_credentials: the periodic clean-up of stale sessions and tokens."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from apps.accounts import services
from apps.accounts.models import AccessToken, AdminKey, ApiSession
from apps.accounts.tasks import purge_expired_credentials
from apps.core.domains import default_domain
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def _session(**fields):
    session = services.create_session(domain=default_domain(), user=UserFactory())
    ApiSession.objects.filter(pk=session.pk).update(**fields)
    return session.pk


def _token(**fields):
    token, _ = services.issue_access_token(user=UserFactory())
    AccessToken.objects.filter(pk=token.pk).update(**fields)
    return token.pk


def test_purge_removes_only_long_stale_credentials():
    now = timezone.now()
    long_ago, recently = now - timedelta(days=31), now - timedelta(days=29)
    stale_sessions = {_session(expires_at=long_ago), _session(revoked_at=long_ago)}
    kept_sessions = {
        _session(),
        _session(expires_at=recently),
        _session(revoked_at=recently),
        _session(expires_at=None),
    }
    stale_tokens = {_token(expires_at=long_ago), _token(revoked_at=long_ago, expires_at=long_ago)}
    kept_tokens = {_token(), _token(revoked_at=recently)}
    old_key, _ = services.create_admin_key(user=StaffFactory())
    AdminKey.objects.filter(pk=old_key.pk).update(revoked_at=long_ago)

    result = purge_expired_credentials.delay().get()

    assert result == {"apisession": 2, "accesstoken": 2}
    assert set(ApiSession.objects.values_list("pk", flat=True)) == kept_sessions
    assert set(AccessToken.objects.values_list("pk", flat=True)) == kept_tokens
    assert not stale_sessions & set(ApiSession.objects.values_list("pk", flat=True))
    assert not stale_tokens & set(AccessToken.objects.values_list("pk", flat=True))
    # Admin keys stay as a record of who had access.
    assert AdminKey.objects.filter(pk=old_key.pk).exists()


def test_purge_twice_removes_nothing_more():
    _session(expires_at=timezone.now() - timedelta(days=60))
    assert purge_expired_credentials.delay().get() == {"apisession": 1, "accesstoken": 0}
    assert purge_expired_credentials.delay().get() == {"apisession": 0, "accesstoken": 0}


def test_purge_runs_from_beat_every_hour():
    entry = settings.CELERY_BEAT_SCHEDULE["accounts-purge-expired-credentials"]
    assert entry == {"task": "apps.accounts.tasks.purge_expired_credentials", "schedule": timedelta(hours=1)}
    assert purge_expired_credentials.name == entry["task"]
