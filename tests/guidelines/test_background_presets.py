"""Background presets over HTTP: BackgroundPresetCreate / Update / Public / PresetsPublic, framings
(at least one, replaced as a whole on update), strategies, images, soft delete and restore."""

import pytest
from django.core.files.storage import default_storage

from apps.core.models import MediaResource
from apps.core.sartiq.media import media_url, resolve_media_input
from apps.guidelines.models import BackgroundPreset, BackgroundPresetFraming
from tests.guidelines.support import BACKGROUNDS, background_preset, image_b64, queries_for
from tests.sartiq_schema import assert_matches
from tests.sartiq_support import assert_validation, client_for, data_uri, image_bytes

pytestmark = pytest.mark.django_db


def _payload(image_server, **extra):
    body = {
        "framings": [{"image": image_server.serve("/white.png", image_bytes(120, 80, (250, 250, 250)))}],
        "name": "Studio White Background",
        "strategy": "DEFAULT",
        **extra,
    }
    assert_matches(body, "BackgroundPresetCreate")
    return body


def test_create_answers_the_preset_with_its_framings(user, image_server):
    response = client_for(user).post(BACKGROUNDS, _payload(image_server), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert_matches(body, "BackgroundPresetPublic")
    preset = BackgroundPreset.objects.get()
    framing = preset.framings.get()
    assert body == {
        "id": str(preset.pk),
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "name": "Studio White Background",
        "owner_id": str(user.pk),
        "organization_id": None,
        "framings": [
            {
                "id": str(framing.pk),
                "created_at": body["framings"][0]["created_at"],
                "updated_at": body["framings"][0]["updated_at"],
                "framing": None,
                "image_url": media_url(framing.image),
                "image_media": body["framings"][0]["image_media"],
            }
        ],
        "cover_image_url": media_url(framing.image),
        "strategy": "DEFAULT",
        "deleted_at": None,
    }
    assert body["framings"][0]["image_media"]["dominant_color"] == "#fafafa"


def test_strategy_defaults_to_default_and_takes_ovs_or_null(user, image_server):
    client = client_for(user)
    payload = _payload(image_server)
    del payload["strategy"]
    assert client.post(BACKGROUNDS, payload, format="json").json()["strategy"] == "DEFAULT"
    assert client.post(BACKGROUNDS, {**payload, "strategy": "OVS"}, format="json").json()["strategy"] == "OVS"
    assert client.post(BACKGROUNDS, {**payload, "strategy": None}, format="json").json()["strategy"] is None


def test_one_image_per_framing_with_any_media_input(user):
    media = resolve_media_input(image_b64(), user=user, field="x")
    payload = {
        "name": "Per framing",
        "framings": [
            {"framing": "full_body", "image": data_uri(image_bytes(20, 40))},
            {"framing": "close_up", "image": {"media_resource_id": str(media.pk), "caption": "close"}},
            {"image": image_b64(50, 50)},
        ],
    }
    body = client_for(user).post(BACKGROUNDS, payload, format="json").json()
    assert_matches(body, "BackgroundPresetPublic")
    assert [row["framing"] for row in body["framings"]] == ["full_body", "close_up", None]
    assert body["framings"][1]["image_media"]["id"] == str(media.pk)
    assert body["framings"][1]["image_media"]["caption"] == "close"
    assert body["cover_image_url"] == body["framings"][0]["image_url"]


@pytest.mark.parametrize(
    ("change", "loc", "kind"),
    [
        ({"framings": []}, ["body", "framings"], "too_short"),
        ({"framings": None}, ["body", "framings"], "missing"),
        ({"framings": [{"framing": "full_body"}]}, ["body", "framings", 0, "image"], "missing"),
        ({"framings": [{"framing": "elbow", "image": "x"}]}, ["body", "framings", 0, "framing"], "enum"),
        ({"name": "n" * 256}, ["body", "name"], "string_too_long"),
        ({"strategy": "FANCY"}, ["body", "strategy"], "enum"),
    ],
)
def test_bad_input_is_a_422(user, image_server, change, loc, kind):
    payload = {**_payload(image_server), **change}
    error = assert_validation(client_for(user).post(BACKGROUNDS, payload, format="json"), loc)
    assert error["type"] == kind
    assert not BackgroundPreset.objects.exists()


def test_a_framing_appears_once(user):
    payload = {"name": "dup", "framings": [{"image": image_b64()}, {"framing": None, "image": image_b64()}]}
    assert_validation(
        client_for(user).post(BACKGROUNDS, payload, format="json"),
        ["body", "framings", 1, "framing"],
        contains="Only one entry",
    )


def _stored_media() -> set:
    try:
        return set(default_storage.listdir("sartiq/media")[1])
    except FileNotFoundError:
        return set()


def test_a_bad_framing_image_is_located(user, private_server):
    before = _stored_media()
    payload = {
        "name": "bad",
        "framings": [
            {"framing": "full_body", "image": image_b64()},
            {"image": f"http://127.0.0.1:{private_server.port}/x.png"},
        ],
    }
    response = client_for(user).post(BACKGROUNDS, payload, format="json")
    assert_validation(response, ["body", "framings", 1, "image"], contains="loopback")
    assert not BackgroundPreset.objects.exists()
    assert _stored_media() == before  # the first framing's image was stored, then discarded


def test_the_list_is_personal_and_pages(user, other):
    for index in range(3):
        background_preset(user, name=f"p{index}", framings=("full_body", None))
    background_preset(other)
    client = client_for(user)
    body = client.get(f"{BACKGROUNDS}?limit=2").json()
    assert_matches(body, "BackgroundPresetsPublic")
    assert body["count"] == 3 and [row["name"] for row in body["data"]] == ["p2", "p1"]
    assert client.get(f"{BACKGROUNDS}?skip=2").json()["data"][0]["name"] == "p0"


def test_the_list_costs_the_same_queries_whatever_its_length(user):
    client = client_for(user)
    client.get(BACKGROUNDS)
    background_preset(user, framings=("full_body",))
    few = queries_for(lambda: client.get(BACKGROUNDS))
    for index in range(5):
        preset = background_preset(user, name=f"more{index}", framings=("full_body", "close_up", None))
        for row in preset.framings.all():
            row.image = resolve_media_input(image_b64(), user=user, field="x")
            row.save()
    assert queries_for(lambda: client.get(BACKGROUNDS)) == few


def test_get_reads_own_presets_only(user, other):
    mine = background_preset(user)
    theirs = background_preset(other)
    client = client_for(user)
    response = client.get(f"{BACKGROUNDS}{mine.pk}")
    assert response.status_code == 200
    assert_matches(response.json(), "BackgroundPresetPublic")
    missing = client.get(f"{BACKGROUNDS}{theirs.pk}")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Background preset not found."})


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_replaces_every_framing(user, image_server, method):
    client = client_for(user)
    created = client.post(BACKGROUNDS, _payload(image_server), format="json").json()
    old_image = MediaResource.objects.get(pk=created["framings"][0]["image_media"]["id"])
    payload = {
        "framings": [
            {"framing": "full_body", "image": image_server.serve("/full.jpg", image_bytes(10, 10), "image/jpeg")},
            {"image": image_b64(color=(1, 2, 3))},
        ],
        "name": "Updated Background Name",
        "strategy": "OVS",
    }
    assert_matches(payload, "BackgroundPresetUpdate")
    response = getattr(client, method)(f"{BACKGROUNDS}{created['id']}", payload, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert_matches(body, "BackgroundPresetPublic")
    assert (body["name"], body["strategy"]) == ("Updated Background Name", "OVS")
    assert [row["framing"] for row in body["framings"]] == ["full_body", None]
    assert created["framings"][0]["id"] not in {row["id"] for row in body["framings"]}
    assert BackgroundPresetFraming.objects.count() == 2
    assert MediaResource.all_objects.get(pk=old_image.pk).deleted_at is not None


def test_update_without_framings_keeps_them(user):
    preset = background_preset(user, framings=("full_body", None))
    body = (
        client_for(user).put(f"{BACKGROUNDS}{preset.pk}", {"name": "renamed", "framings": None}, format="json").json()
    )
    assert body["name"] == "renamed" and len(body["framings"]) == 2


def test_update_keeps_at_least_one_framing(user):
    preset = background_preset(user)
    response = client_for(user).put(f"{BACKGROUNDS}{preset.pk}", {"framings": []}, format="json")
    assert_validation(response, ["body", "framings"])
    assert preset.framings.count() == 1


def test_an_image_kept_across_the_replacement_stays(user):
    client = client_for(user)
    media = resolve_media_input(image_b64(), user=user, field="x")
    created = client.post(
        BACKGROUNDS, {"name": "k", "framings": [{"image": {"media_resource_id": str(media.pk)}}]}, format="json"
    ).json()
    client.put(
        f"{BACKGROUNDS}{created['id']}",
        {"framings": [{"framing": "detail", "image": {"media_resource_id": str(media.pk)}}]},
        format="json",
    )
    assert MediaResource.objects.filter(pk=media.pk).exists()


def test_delete_and_restore(user, other, admin):
    preset = background_preset(user)
    client = client_for(user)
    assert client_for(other).delete(f"{BACKGROUNDS}{preset.pk}").status_code == 404
    deleted = client.delete(f"{BACKGROUNDS}{preset.pk}")
    assert deleted.json() == {"message": "Background preset deleted successfully"}
    assert_matches(deleted.json(), "Message")
    assert client.get(f"{BACKGROUNDS}{preset.pk}").status_code == 404
    assert client.post(f"{BACKGROUNDS}{preset.pk}/restore").status_code == 403
    restored = client_for(admin).post(f"{BACKGROUNDS}{preset.pk}/restore")
    assert restored.status_code == 200
    assert_matches(restored.json(), "BackgroundPresetPublic")
    assert restored.json()["deleted_at"] is None and len(restored.json()["framings"]) == 1
