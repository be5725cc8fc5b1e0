"""The guidelines back office in a real browser: image previews load, restore and purge actions."""

import re

import pytest

from apps.core.models import MediaResource
from apps.core.sartiq.media import resolve_media_input
from apps.guidelines.models import ShotType
from tests.e2e.test_admin_browser import _sign_in, browser, page  # noqa: F401 - fixtures (skips without Chromium)
from tests.factories import UserFactory
from tests.guidelines.support import image_b64, shot_type

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def superuser():
    return UserFactory(email="root@example.com", username="root", is_staff=True, is_superuser=True)


def test_shot_type_previews_load_and_actions_restore_and_purge(page, live_server, superuser):  # noqa: F811
    owner = UserFactory()
    media = resolve_media_input(image_b64(300, 200, (30, 120, 220)), user=owner, field="x")
    shown = shot_type(owner, name="front-hero", reference_image=media)
    restorable = shot_type(owner, name="restorable")
    doomed = shot_type(owner, name="doomed", reference_image=resolve_media_input(image_b64(), user=owner, field="x"))
    restorable.delete()
    doomed.delete()

    _sign_in(page, live_server, superuser)
    page.goto(f"{live_server.url}/admin/guidelines/shottype/")
    expect(page.locator("#content h1")).to_have_text("Select shot type to change")
    preview = page.locator(f"#result_list img[alt='{shown.name}']")
    expect(preview).to_be_visible()
    assert preview.evaluate("img => img.complete && img.naturalWidth") == 300  # the thumbnail loaded

    page.goto(f"{live_server.url}/admin/guidelines/shottype/?state=deleted")
    page.locator(f"input[name=_selected_action][value='{restorable.pk}']").check()
    page.select_option("select[name=action]", "restore_selected")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text("Restored 1 row(s).")
    assert ShotType.objects.filter(pk=restorable.pk).exists()

    page.goto(f"{live_server.url}/admin/guidelines/shottype/?state=deleted")
    page.locator(f"input[name=_selected_action][value='{doomed.pk}']").check()
    page.select_option("select[name=action]", "purge_selected")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text(re.compile(r"Purged 1 deleted row"))
    assert not ShotType.all_objects.filter(pk=doomed.pk).exists()
    assert MediaResource.objects.filter(pk=media.pk).exists()
