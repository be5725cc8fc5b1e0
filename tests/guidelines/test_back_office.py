"""The back office of shot types and presets (filters, search, previews, restore and purge), and the
retention purge of soft-deleted rows with the images only they used."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from apps.core.models import MediaResource
from apps.core.sartiq.media import resolve_media_input, thumbnail_url
from apps.core.services import retention
from apps.guidelines.models import BackgroundPreset, ResolutionPreset, ShotType
from tests.guidelines.support import background_preset, image_b64, resolution_preset, shot_type

pytestmark = pytest.mark.django_db

ADMIN = "/admin/guidelines"


@pytest.fixture
def browser(client, admin):
    client.force_login(admin)
    return client


def _media(user):
    return resolve_media_input(image_b64(), user=user, field="x")


def _action(browser, model: str, action: str, rows) -> None:
    response = browser.post(
        f"{ADMIN}/{model}/", {"action": action, "_selected_action": [str(row.pk) for row in rows]}, follow=True
    )
    assert response.status_code == 200


def test_the_shot_type_list_shows_previews_filters_and_searches(browser, user):
    media = _media(user)
    shot_type(user, name="front-hero", reference_image=media)
    shot_type(user, name="back-detail", framing="detail", view_angle="back")
    page = browser.get(f"{ADMIN}/shottype/")
    assert page.status_code == 200
    html = page.content.decode()
    assert thumbnail_url(media) in html and "front-hero" in html and "back-detail" in html
    filtered = browser.get(f"{ADMIN}/shottype/?framing__exact=detail").content.decode()
    assert "back-detail" in filtered and "front-hero" not in filtered
    searched = browser.get(f"{ADMIN}/shottype/?q=hero").content.decode()
    assert "front-hero" in searched and "back-detail" not in searched
    detail = browser.get(f"{ADMIN}/shottype/{ShotType.objects.get(name='front-hero').pk}/change/")
    assert detail.status_code == 200 and thumbnail_url(media) in detail.content.decode()


def test_deleted_rows_are_listed_and_restored(browser, user):
    gone = shot_type(user, name="gone")
    gone.delete()
    deleted = browser.get(f"{ADMIN}/shottype/?state=deleted").content.decode()
    assert "gone" in deleted
    _action(browser, "shottype", "restore_selected", [gone])
    assert ShotType.objects.filter(pk=gone.pk).exists()


def test_purge_deletes_deleted_rows_and_the_images_only_they_used(browser, user):
    own = _media(user)
    shared = _media(user)
    doomed = shot_type(user, name="doomed", reference_image=own, shot_type_ref_image=shared)
    shot_type(user, name="keeper", reference_image=shared)
    live = shot_type(user, name="live")
    doomed.delete()

    _action(browser, "shottype", "purge_selected", [doomed, live])

    assert not ShotType.all_objects.filter(pk=doomed.pk).exists()
    assert ShotType.objects.filter(pk=live.pk).exists()
    assert not MediaResource.all_objects.filter(pk=own.pk).exists()
    assert not default_storage.exists(own.storage_name) and not default_storage.exists(own.thumbnail_name)
    assert MediaResource.objects.filter(pk=shared.pk).exists() and default_storage.exists(shared.storage_name)


def test_background_presets_show_framing_previews_and_purge(browser, user):
    media = _media(user)
    preset = background_preset(user, framings=("full_body",))
    preset.framings.update(image=media)
    html = browser.get(f"{ADMIN}/backgroundpreset/").content.decode()
    assert thumbnail_url(media) in html
    change = browser.get(f"{ADMIN}/backgroundpreset/{preset.pk}/change/")
    assert change.status_code == 200 and thumbnail_url(media) in change.content.decode()
    assert preset.name in browser.get(f"{ADMIN}/backgroundpreset/?strategy__exact=DEFAULT").content.decode()
    assert preset.name not in browser.get(f"{ADMIN}/backgroundpreset/?strategy__exact=OVS").content.decode()

    preset.delete()
    _action(browser, "backgroundpreset", "purge_selected", [preset])
    assert not BackgroundPreset.all_objects.filter(pk=preset.pk).exists()
    assert not MediaResource.all_objects.filter(pk=media.pk).exists()


def test_resolution_presets_are_searched_restored_and_purged(browser, user):
    kept = resolution_preset(user, name="Square 1K", width=1024, height=1024)
    gone = resolution_preset(user, name="Portrait 4K", width=2160, height=3840)
    html = browser.get(f"{ADMIN}/resolutionpreset/?q=portrait").content.decode()
    assert "Portrait 4K" in html and "Square 1K" not in html
    gone.delete()
    kept.delete()
    _action(browser, "resolutionpreset", "restore_selected", [kept])
    _action(browser, "resolutionpreset", "purge_selected", [gone])
    assert ResolutionPreset.objects.filter(pk=kept.pk).exists()
    assert not ResolutionPreset.all_objects.filter(pk=gone.pk).exists()


def test_deleting_in_the_back_office_is_a_soft_delete(browser, user):
    preset = resolution_preset(user)
    response = browser.post(f"/admin/guidelines/resolutionpreset/{preset.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert ResolutionPreset.all_objects.get(pk=preset.pk).deleted_at is not None


def test_the_media_resource_list_previews_and_purges(browser, user):
    media = _media(user)
    html = browser.get("/admin/core/mediaresource/").content.decode()
    assert thumbnail_url(media) in html
    media.delete()
    browser.post(
        "/admin/core/mediaresource/", {"action": "purge_selected", "_selected_action": [str(media.pk)]}, follow=True
    )
    assert not MediaResource.all_objects.filter(pk=media.pk).exists()
    assert not default_storage.exists(media.storage_name)


def test_staff_without_permissions_cannot_open_the_pages(client, user):
    user.is_staff = True
    user.save()
    client.force_login(user)
    assert client.get(f"{ADMIN}/shottype/").status_code == 403


def test_retention_purges_old_deleted_rows_with_their_images(user):
    own = _media(user)
    doomed = shot_type(user, name="old", reference_image=own)
    recent = shot_type(user, name="recent")
    preset = background_preset(user, framings=(None,))
    framing_image = _media(user)
    preset.framings.update(image=framing_image)
    for row in (doomed, preset):
        row.delete()
        type(row).all_objects.filter(pk=row.pk).update(deleted_at=timezone.now() - timedelta(days=40))
    recent.delete()

    reports = {report.label: report for report in retention.purge_deleted(older_than=timedelta(days=30))}

    assert reports["guidelines.ShotType"].ids == [doomed.pk]
    assert reports["guidelines.BackgroundPreset"].ids == [preset.pk]
    assert ShotType.all_objects.filter(pk=recent.pk).exists()
    for image in (own, framing_image):
        assert not MediaResource.all_objects.filter(pk=image.pk).exists()
        assert not default_storage.exists(image.storage_name)
