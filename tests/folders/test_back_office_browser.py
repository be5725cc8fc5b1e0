"""The folders back office in a real browser: find a deleted folder and restore it."""

import pytest

from apps.folders.models import Folder
from tests.e2e.test_admin_browser import _sign_in, browser, expect, page  # noqa: F401 - fixtures
from tests.factories import UserFactory
from tests.items.support import staff_with_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_restore_a_deleted_folder(page, live_server):  # noqa: F811
    staff = staff_with_role("admin")
    owner = UserFactory(email="collector@example.com")
    folder = Folder.objects.create(owner=owner, name="Lost and found", is_public=True)
    folder.delete()

    _sign_in(page, live_server, staff)
    page.goto(f"{live_server.url}/admin/folders/folder/?deleted=yes")
    page.fill("#searchbar", "collector@")
    page.press("#searchbar", "Enter")
    expect(page.locator("#result_list")).to_contain_text("Lost and found")
    expect(page.locator("#result_list")).to_contain_text(f"p-{folder.pk}")
    page.locator("input.action-select").first.check()
    page.select_option("select[name=action]", "restore_folders")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist li")).to_contain_text("Restored 1 folder(s).")
    assert not Folder.all_objects.get(pk=folder.pk).is_deleted
