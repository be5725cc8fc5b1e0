"""The back office in a real browser: Playwright driving Debian's Chromium against a live server."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import PASSWORD, UserFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does it when run as root)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The admin pages the back office must open, as linked from its index: (link text, page heading).
CHANGELISTS = [
    ("Users", "Select user to change"),
    ("Domains", "Select domain to change"),
    ("Organizations", "Select organization to change"),
    ("API sessions", "Select API session to change"),
    ("Access tokens", "Select access token to change"),
    ("Admin keys", "Select admin key to change"),
]


@pytest.fixture(scope="module")
def browser():
    # Sync Playwright runs an event loop in this thread; the ORM calls made by the test (and by
    # pytest-django's teardown) while it runs are still synchronous, so Django may allow them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def superuser():
    return UserFactory(email="root@example.com", username="root", is_staff=True, is_superuser=True)


def _sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_have_text("Atelier back office")


def test_superuser_signs_in_and_opens_every_changelist(page, live_server, superuser):
    _sign_in(page, live_server, superuser)
    expect(page).to_have_title(re.compile("Atelier back office"))

    screenshot = Path(settings.VAR_DIR) / "e2e" / "admin-index.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot), full_page=True)

    index = page.url
    for link, heading in CHANGELISTS:
        page.goto(index)
        page.locator("#content-main").get_by_role("link", name=link, exact=True).click()
        expect(page.locator("#content h1")).to_have_text(heading)
        expect(page.locator("#site-name")).to_have_text("Atelier back office")

    # The superuser is listed among the users.
    page.goto(f"{live_server.url}/admin/accounts/user/")
    expect(page.locator("#result_list")).to_contain_text(superuser.email)


def test_admin_key_created_in_the_add_form_is_shown_once_and_works(page, live_server, superuser):
    from apps.accounts import selectors
    from apps.accounts.models import AdminKey

    _sign_in(page, live_server, superuser)
    page.goto(f"{live_server.url}/admin/accounts/adminkey/add/")
    expect(page.locator("#content h1")).to_have_text("Add admin key")

    # The user field is an autocomplete (select2) widget: open it, search, pick.
    page.locator(".field-user .select2-selection").click()
    page.locator(".select2-search__field").fill("root@")
    page.locator(".select2-results__option", has_text=superuser.email).click()
    page.fill("#id_name", "browser test")
    page.click("input[name=_save]")

    message = page.locator("ul.messagelist li", has_text="Copy it now")
    expect(message).to_be_visible()
    secret = message.locator("code").inner_text().strip()
    assert secret.startswith("akey_")

    key = AdminKey.objects.get()
    assert key.user == superuser
    assert key.name == "browser test"
    assert secret.startswith(key.prefix + ".")
    assert secret not in (key.secret_hash, key.prefix)
    assert selectors.admin_key_from_secret(secret) == key

    # It is listed by prefix only; the secret never appears again.
    expect(page.locator("#result_list")).to_contain_text(key.prefix)
    page.reload()
    expect(page.locator("#content")).not_to_contain_text(secret)
