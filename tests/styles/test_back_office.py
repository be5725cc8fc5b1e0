"""The styles pages of the back office: list with filters and search, media previews, and the
delete (soft), restore and purge actions."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from apps.core.models import MediaResource
from apps.styles.models import Style
from tests.factories import UserFactory

from .support import BASE, data_uri, stored_names

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:styles_style_changelist")


@pytest.fixture
def office(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def styles(alice, bob):
    vintage = alice.create(name="Vintage Denim", style_category="VINTAGE", data_images=[data_uri((3, 3, 3))])
    other = bob.create(name="Linen Summer", brand="Seaside", public=True)
    return vintage, other


def test_the_list_shows_styles_with_cover_thumbnails(office, styles):
    response = office.get(CHANGELIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Vintage Denim" in page and "Linen Summer" in page
    assert page.count('<img src="/api/v1/media/') == 2
    assert ".thumbnail." in page


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"q": "seaside"}, "Linen Summer", "Vintage Denim"),
        ({"style_category__exact": "VINTAGE"}, "Vintage Denim", "Linen Summer"),
        ({"public__exact": "1"}, "Linen Summer", "Vintage Denim"),
    ],
)
def test_filters_and_search(office, styles, query, shown, hidden):
    page = office.get(CHANGELIST, query).content.decode()
    assert shown in page and hidden not in page


def test_the_change_page_previews_the_cover_and_data_images(office, styles):
    vintage, _ = styles
    page = office.get(reverse("admin:styles_style_change", args=[vintage["id"]])).content.decode()
    assert vintage["cover_image_url"] in page
    assert vintage["data_image_urls"][0] in page
    assert "vintage-denim" in page


def test_styles_are_not_added_from_the_back_office(office):
    assert office.get(reverse("admin:styles_style_add")).status_code == 403


def test_delete_in_the_back_office_is_the_soft_delete(office, styles):
    vintage, _ = styles
    response = office.post(reverse("admin:styles_style_delete", args=[vintage["id"]]), {"post": "yes"})
    assert response.status_code == 302
    assert Style.all_objects.get(pk=vintage["id"]).deleted_at is not None
    page = office.get(CHANGELIST, {"state": "deleted"}).content.decode()
    assert "Vintage Denim" in page


def test_the_restore_action(office, alice, styles):
    vintage, _ = styles
    alice.delete(f"{BASE}/{vintage['id']}")
    office.post(CHANGELIST, {"action": "restore_selected", ACTION_CHECKBOX_NAME: [vintage["id"]]})
    assert Style.objects.filter(pk=vintage["id"]).exists()


def test_the_purge_action_deletes_deleted_styles_with_their_files(office, alice, storage, styles):
    vintage, other = styles
    alice.delete(f"{BASE}/{vintage['id']}")
    media = [vintage["cover_image_media"]["id"], vintage["data_images_media"][0]["id"]]
    response = office.post(
        CHANGELIST, {"action": "purge_selected", ACTION_CHECKBOX_NAME: [vintage["id"], other["id"]]}, follow=True
    )
    assert "Purged 1 deleted style(s)" in response.content.decode()
    assert not Style.all_objects.filter(pk=vintage["id"]).exists()
    assert Style.objects.filter(pk=other["id"]).exists()  # live styles are never purged
    assert not MediaResource.all_objects.filter(pk__in=media).exists()
    assert len(stored_names(storage, "sartiq/media")) == 2  # the other style's cover and its thumbnail
