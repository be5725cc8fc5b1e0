"""The gift-card back office in a real browser: generate a batch, download its codes, revoke cards."""

import pytest

from apps.billing import giftcodes
from apps.billing.models import GiftCard, GiftCardBatch
from tests.billing.conftest import staff_with_role
from tests.e2e.test_admin_browser import _sign_in, browser, expect, page  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def billing_admin():
    staff = staff_with_role("admin")
    staff.email = "billing@example.com"
    staff.save()
    return staff


def test_generate_a_batch_download_it_and_revoke_a_card(page, live_server, billing_admin):  # noqa: F811
    _sign_in(page, live_server, billing_admin)
    page.goto(f"{live_server.url}/admin/billing/giftcard/")
    page.get_by_role("link", name="Generate batch").click()
    expect(page.locator("#content h1")).to_have_text("Generate a batch of gift cards")

    page.fill("#id_tier", "2")
    page.fill("#id_days", "7")
    page.fill("#id_number_of_cards", "4")
    page.fill("#id_additional_information", "browser batch")
    with page.expect_download() as download_info:
        page.click("#generate-gift-cards input[type=submit]")
    download = download_info.value
    assert download.suggested_filename.startswith("gift-cards-giftcard-tier2-7d-")
    with open(download.path(), encoding="utf-8") as handle:
        codes = handle.read().splitlines()
    assert len(codes) == 4
    batch = GiftCardBatch.objects.get()
    assert (batch.tier, batch.days, batch.count, batch.additional_information) == (2, 7, 4, "browser batch")
    assert {giftcodes.code_hash(giftcodes.normalized(code)) for code in codes} == set(
        GiftCard.objects.values_list("code_hash", flat=True)
    )

    # Revoke one card from the list.
    page.goto(f"{live_server.url}/admin/billing/giftcard/?state=unredeemed")
    page.locator("input.action-select").first.check()
    page.select_option("select[name=action]", "revoke_unredeemed")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist li")).to_contain_text("Revoked 1 card(s).")
    assert GiftCard.objects.filter(revoked_at__isnull=False).count() == 1
