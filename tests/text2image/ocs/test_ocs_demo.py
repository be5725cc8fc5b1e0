"""The OCS demo data: three finished textprocessing tasks of the demo user, seeded once."""

import pytest

from apps.text2image.models import OcsTaskStatus, TextProcessingTask
from apps.text2image.services.ocs import seed_demo_tasks
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_demo_tasks_are_seeded_once():
    assert list(seed_demo_tasks()) == ["OCS textprocessing demo tasks: skipped (no demo user alice@example.com)"]
    alice = UserFactory(email="alice@example.com", username="alice")
    assert list(seed_demo_tasks()) == ["OCS textprocessing demo tasks of alice: 3 created"]
    assert list(seed_demo_tasks()) == ["OCS textprocessing demo tasks of alice: 0 created"]
    tasks = TextProcessingTask.objects.filter(owner=alice, app_id="demo")
    assert tasks.count() == 3
    assert set(tasks.values_list("status", flat=True)) == {OcsTaskStatus.SUCCESSFUL}
