"""The subjects back office in a real browser: cover thumbnails load, and a deleted subject is
restored and another purged through the actions."""

import re

import pytest

from apps.core.sartiq.media import resolve_media_input
from apps.subjects import services
from apps.subjects.models import Subject
from tests.e2e.test_admin_browser import _sign_in, browser, page  # noqa: F401 - fixtures (skips without Chromium)
from tests.factories import UserFactory
from tests.guidelines.support import image_b64

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def superuser():
    return UserFactory(email="root@example.com", username="root", is_staff=True, is_superuser=True)


def make(owner, name: str, width: int = 120) -> Subject:
    cover = resolve_media_input(image_b64(width, 160, (200, 60, 90)), user=owner, field="cover_image")
    data = {"name": name, "age_class": "adult", "cover_image": {"media_resource_id": str(cover.pk)}}
    return services.create_subject(user=owner, owner=owner, organization=None, data=data)


def test_cover_thumbnails_load_and_actions_restore_and_purge(page, live_server, superuser):  # noqa: F811
    owner = UserFactory()
    shown = make(owner, "Shown", width=300)
    restorable = make(owner, "Restorable")
    doomed = make(owner, "Doomed")
    services.delete_subject(subject=restorable)
    services.delete_subject(subject=doomed)

    _sign_in(page, live_server, superuser)
    page.goto(f"{live_server.url}/admin/subjects/subject/")
    expect(page.locator("#content h1")).to_have_text("Select subject to change")
    preview = page.locator(f"#result_list img[alt='{shown.name}']")
    expect(preview).to_be_visible()
    assert preview.evaluate("img => img.complete && img.naturalWidth") > 0  # the thumbnail loaded

    page.goto(f"{live_server.url}/admin/subjects/subject/?state=deleted")
    page.locator(f"input[name=_selected_action][value='{restorable.pk}']").check()
    page.select_option("select[name=action]", "restore_selected")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text("Restored 1 subject(s).")
    assert Subject.objects.filter(pk=restorable.pk).exists()

    page.goto(f"{live_server.url}/admin/subjects/subject/?state=deleted")
    page.locator(f"input[name=_selected_action][value='{doomed.pk}']").check()
    page.select_option("select[name=action]", "purge_selected")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text(re.compile(r"Purged 1 deleted subject"))
    assert not Subject.all_objects.filter(pk=doomed.pk).exists()
