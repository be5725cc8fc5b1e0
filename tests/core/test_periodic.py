"""Celery beat: every scheduled task exists, and the core periodic tasks do their work."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from config.celery_app import app


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, f"beat entry {name} names an unknown task {entry['task']}"


def test_the_periodic_clean_ups_are_scheduled():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "apps.reports.tasks.decline_vanished_reports",
        "apps.text2image.tasks.reap_generation_jobs",
        "apps.text2image.tasks.cleanup_ocs_tasks",
    } <= tasks


@pytest.mark.django_db
def test_expired_browser_sessions_are_cleared():
    from apps.core.tasks import clear_expired_browser_sessions

    now = timezone.now()
    Session.objects.create(session_key="expired", session_data="x", expire_date=now - timedelta(seconds=1))
    Session.objects.create(session_key="current", session_data="x", expire_date=now + timedelta(days=1))
    clear_expired_browser_sessions.delay().get()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["current"]
