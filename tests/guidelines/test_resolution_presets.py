"""Resolution presets over HTTP: ResolutionPresetCreate / Update / Public / PresetsPublic, bounds,
soft delete and restore."""

import pytest

from apps.guidelines.models import ResolutionPreset
from tests.guidelines.support import RESOLUTIONS, queries_for, resolution_preset
from tests.sartiq_schema import assert_matches
from tests.sartiq_support import assert_validation, client_for

pytestmark = pytest.mark.django_db

EXAMPLE = {"height": 1080, "name": "Full HD", "width": 1920}


def test_create_answers_the_preset(user):
    assert_matches(EXAMPLE, "ResolutionPresetCreate")
    response = client_for(user).post(RESOLUTIONS, EXAMPLE, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert_matches(body, "ResolutionPresetPublic")
    preset = ResolutionPreset.objects.get()
    assert body == {
        "id": str(preset.pk),
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "name": "Full HD",
        "owner_id": str(user.pk),
        "organization_id": None,
        "width": 1920,
        "height": 1080,
        "deleted_at": None,
    }


@pytest.mark.parametrize(
    ("change", "loc", "kind"),
    [
        ({"width": 0}, ["body", "width"], "greater_than_equal"),
        ({"height": -5}, ["body", "height"], "greater_than_equal"),
        ({"width": 16385}, ["body", "width"], "less_than_equal"),
        ({"height": "tall"}, ["body", "height"], "value_error"),
        ({"width": None}, ["body", "width"], "missing"),
        ({"name": ""}, ["body", "name"], "string_too_short"),
        ({"name": "n" * 256}, ["body", "name"], "string_too_long"),
    ],
)
def test_bad_input_is_a_422(user, change, loc, kind):
    error = assert_validation(client_for(user).post(RESOLUTIONS, {**EXAMPLE, **change}, format="json"), loc)
    assert error["type"] == kind
    assert not ResolutionPreset.objects.exists()


def test_the_largest_side_is_accepted(user):
    body = client_for(user).post(RESOLUTIONS, {**EXAMPLE, "width": 16384, "height": 1}, format="json").json()
    assert (body["width"], body["height"]) == (16384, 1)


def test_the_list_is_personal_pages_and_costs_constant_queries(user, other):
    client = client_for(user)
    client.get(RESOLUTIONS)
    resolution_preset(user, name="a")
    few = queries_for(lambda: client.get(RESOLUTIONS))
    for index in range(4):
        resolution_preset(user, name=f"more{index}")
    resolution_preset(other, name="theirs")
    assert queries_for(lambda: client.get(RESOLUTIONS)) == few
    body = client.get(f"{RESOLUTIONS}?skip=1&limit=3").json()
    assert_matches(body, "ResolutionPresetsPublic")
    assert body["count"] == 5 and len(body["data"]) == 3


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_is_partial_and_bounded(user, method):
    preset = resolution_preset(user)
    client = client_for(user)
    payload = {"height": 720, "name": "Updated HD", "width": 1280}
    assert_matches(payload, "ResolutionPresetUpdate")
    body = getattr(client, method)(f"{RESOLUTIONS}{preset.pk}", {"width": 1280}, format="json").json()
    assert_matches(body, "ResolutionPresetPublic")
    assert (body["name"], body["width"], body["height"]) == ("Full HD", 1280, 1080)
    body = getattr(client, method)(f"{RESOLUTIONS}{preset.pk}", {**payload, "width": None}, format="json").json()
    assert (body["name"], body["width"], body["height"]) == ("Updated HD", 1280, 720)
    refused = getattr(client, method)(f"{RESOLUTIONS}{preset.pk}", {"height": 0}, format="json")
    assert_validation(refused, ["body", "height"])


def test_get_delete_and_restore(user, other, admin):
    preset = resolution_preset(user)
    client = client_for(user)
    got = client.get(f"{RESOLUTIONS}{preset.pk}")
    assert got.status_code == 200
    assert_matches(got.json(), "ResolutionPresetPublic")
    assert client_for(other).get(f"{RESOLUTIONS}{preset.pk}").status_code == 404
    assert client_for(other).put(f"{RESOLUTIONS}{preset.pk}", {"width": 1}, format="json").status_code == 404

    deleted = client.delete(f"{RESOLUTIONS}{preset.pk}")
    assert deleted.json() == {"message": "Resolution preset deleted successfully"}
    assert client.delete(f"{RESOLUTIONS}{preset.pk}").status_code == 404
    assert client.post(f"{RESOLUTIONS}{preset.pk}/restore").status_code == 403
    assert client_for().post(f"{RESOLUTIONS}{preset.pk}/restore").status_code == 401
    restored = client_for(admin).post(f"{RESOLUTIONS}{preset.pk}/restore")
    assert restored.status_code == 200
    assert_matches(restored.json(), "ResolutionPresetPublic")
    assert client.get(f"{RESOLUTIONS}{preset.pk}").status_code == 200


def test_the_collection_path_works_without_its_slash(user):
    assert client_for(user).get(RESOLUTIONS.rstrip("/")).status_code == 200
