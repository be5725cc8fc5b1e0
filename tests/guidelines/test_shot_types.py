"""Shot types over HTTP in the Sartiq wire format: every request and response checked against the
spec's schemas (ShotTypeCreate, ShotTypeUpdate, ShotTypePublic, ShotTypesPublic, Message)."""

import pytest
from django.core.files.storage import default_storage

from apps.core.models import MediaResource
from apps.core.sartiq.media import media_url, resolve_media_input
from apps.guidelines.models import ShotType
from tests.guidelines.support import SHOT_TYPES, image_b64, queries_for, shot_type
from tests.sartiq_schema import assert_matches
from tests.sartiq_support import assert_validation, client_for, data_uri, image_bytes

pytestmark = pytest.mark.django_db

EXAMPLE = {
    "file_naming_convention": "{product_name}_front_upper",
    "framing": "upper_body",
    "name": "front_upper_body",
    "shot_type_prompt_instruction": "Capture the front view from waist up",
    "view_angle": "front",
}


def _create(client, body, **query):
    assert_matches(body, "ShotTypeCreate")
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return client.post(SHOT_TYPES + suffix, body, format="json")


# --- create -----------------------------------------------------------------------------------------


def test_create_answers_the_shot_type_with_every_spec_field(user):
    response = _create(client_for(user), EXAMPLE)
    assert response.status_code == 200, response.content
    body = response.json()
    assert_matches(body, "ShotTypePublic")
    shot = ShotType.objects.get()
    assert body == {
        "name": "front_upper_body",
        "view_angle": "front",
        "framing": "upper_body",
        "shot_type_ref_image_url": None,
        "shot_type_prompt_instruction": "Capture the front view from waist up",
        "file_naming_convention": "{product_name}_front_upper",
        "reference_image_url": None,
        "prompt": None,
        "prompt_builder_section": None,
        "core_focus": False,
        "default_shot_type": None,
        "margins": None,
        "owner_id": str(user.pk),
        "public": True,
        "organization_id": None,
        "id": str(shot.pk),
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "deleted_at": None,
        "reference_image": None,
    }


def test_create_with_every_field(user, image_server):
    url = image_server.serve("/ref.png", image_bytes(30, 60))
    payload = {
        **EXAMPLE,
        "shot_type_ref_image_url": url,
        "reference_image_url": {"url": data_uri(image_bytes(80, 40)), "alt_text": "Front", "caption": "Look 1"},
        "prompt": "studio light",
        "prompt_builder_section": "framing",
        "core_focus": True,
        "default_shot_type": "front_upper_body",
        "margins": "10%",
        "public": False,
    }
    body = _create(client_for(user), payload).json()
    assert_matches(body, "ShotTypePublic")
    shot = ShotType.objects.get()
    assert body["reference_image_url"] == media_url(shot.reference_image)
    assert body["shot_type_ref_image_url"] == media_url(shot.shot_type_ref_image)
    assert body["reference_image"]["alt_text"] == "Front" and body["reference_image"]["caption"] == "Look 1"
    assert (body["reference_image"]["width"], body["reference_image"]["orientation"]) == (80, "landscape")
    assert (body["core_focus"], body["public"], body["default_shot_type"], body["margins"]) == (
        True,
        False,
        "front_upper_body",
        "10%",
    )
    assert client_for().get(body["reference_image_url"]).status_code == 200


@pytest.mark.parametrize("form", ["url", "base64", "data_uri", "upload", "media_resource_id", "media_url"])
def test_each_media_input_form_fills_the_url_and_the_media_object(user, image_server, form):
    content = image_bytes(64, 32, (20, 40, 200))
    client = client_for(user)
    if form == "url":
        value = image_server.serve("/x.png", content)
    elif form == "base64":
        value = image_b64(64, 32, (20, 40, 200))
    elif form == "data_uri":
        value = data_uri(content)
    elif form == "upload":
        target = client.post("/api/v1/uploads/", {"content_type": "image/png"}, format="json").json()
        assert client_for().put(target["upload_url"], data=content, content_type="image/png").status_code == 200
        value = target["file_url"]
    else:
        existing = resolve_media_input(data_uri(content), user=user, field="x")
        value = (
            {"media_resource_id": str(existing.pk), "alt_text": "kept"}
            if form == "media_resource_id"
            else media_url(existing)
        )
    body = _create(client, {**EXAMPLE, "reference_image_url": value}).json()
    assert_matches(body, "ShotTypePublic")
    media = body["reference_image"]
    assert body["reference_image_url"] == media["url"]
    assert (media["width"], media["height"], media["dominant_color"]) == (64, 32, "#1428c8")
    assert MediaResource.objects.get(pk=media["id"]).owner == user


@pytest.mark.parametrize(
    ("payload", "loc", "kind"),
    [
        ({"view_angle": "front", "framing": "full_body"}, ["body", "name"], "missing"),
        ({"name": "x", "framing": "full_body"}, ["body", "view_angle"], "missing"),
        ({"name": "x", "view_angle": "front"}, ["body", "framing"], "missing"),
        ({**EXAMPLE, "framing": "knees"}, ["body", "framing"], "enum"),
        ({**EXAMPLE, "view_angle": "sideways"}, ["body", "view_angle"], "enum"),
        ({**EXAMPLE, "default_shot_type": "hero"}, ["body", "default_shot_type"], "enum"),
        ({**EXAMPLE, "name": "n" * 256}, ["body", "name"], "string_too_long"),
        ({**EXAMPLE, "core_focus": "often"}, ["body", "core_focus"], "value_error"),
        ({**EXAMPLE, "organization_id": "not-a-uuid"}, ["body", "organization_id"], "value_error"),
        ({**EXAMPLE, "shot_type_ref_image_url": {"url": "x"}}, ["body", "shot_type_ref_image_url"], "string_type"),
        ({**EXAMPLE, "reference_image_url": {"alt_text": "no image"}}, ["body", "reference_image_url"], "value_error"),
    ],
)
def test_bad_input_is_a_422_with_fastapi_detail(user, payload, loc, kind):
    response = client_for(user).post(SHOT_TYPES, payload, format="json")
    error = assert_validation(response, loc)
    assert error["type"] == kind
    assert not ShotType.objects.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://127.0.0.1:{private}/ref.png", "loopback"),
        ("http://169.254.169.254/ref.png", "metadata"),
        ("{public}/corrupt.png", "damaged"),
        ("{public}/huge.png", "too large"),
        (image_b64()[:40], "not"),
    ],
)
def test_bad_images_are_a_422_at_the_field(user, image_server, private_server, settings, monkeypatch, value, message):
    from dataclasses import replace

    from apps.core.sartiq import media

    broken = bytearray(image_bytes(64, 64))
    broken[60:90] = b"\xff" * 30
    image_server.serve("/corrupt.png", bytes(broken))
    image_server.serve("/huge.png", image_bytes(200, 200) + b"\0" * 4096)
    monkeypatch.setattr(media, "STUDIO_MEDIA", replace(media.STUDIO_MEDIA, max_bytes=4000))
    url = value.format(private=private_server.port, public=image_server.url(""))
    response = client_for(user).post(SHOT_TYPES, {**EXAMPLE, "reference_image_url": url}, format="json")
    assert_validation(response, ["body", "reference_image_url"], contains=message)
    assert private_server.hits == []
    assert not MediaResource.objects.exists()


def test_a_bad_image_inside_a_media_input_names_its_url(user):
    response = client_for(user).post(
        SHOT_TYPES, {**EXAMPLE, "reference_image_url": {"url": "ftp://example.com/a.png"}}, format="json"
    )
    assert_validation(response, ["body", "reference_image_url", "url"], contains="http")


def test_names_are_unique_per_owner_and_organization(user, other):
    client = client_for(user)
    assert _create(client, EXAMPLE).status_code == 200
    duplicate = _create(client, EXAMPLE)
    assert duplicate.status_code == 409
    assert duplicate.json() == {"detail": "A shot type named 'front_upper_body' already exists."}
    assert _create(client_for(other), EXAMPLE).status_code == 200


def test_create_needs_a_signed_in_user():
    response = client_for().post(SHOT_TYPES, EXAMPLE, format="json")
    assert response.status_code == 401 and response.json() == {"detail": "You are not signed in."}


# --- list -------------------------------------------------------------------------------------------


def _list(client, query: str = ""):
    response = client.get(f"{SHOT_TYPES}{query}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert_matches(body, "ShotTypesPublic")
    return body


def test_the_list_shows_personal_shot_types_and_public_ones_on_request(user, other):
    mine = shot_type(user, name="mine", public=False)
    mine_public = shot_type(user, name="mine-public")
    theirs_public = shot_type(other, name="theirs-public")
    shot_type(other, name="theirs-private", public=False)
    client = client_for(user)

    body = _list(client)
    assert body["count"] == 2 and {row["id"] for row in body["data"]} == {str(mine.pk), str(mine_public.pk)}
    with_public = _list(client, "?include_public=true")
    assert {row["id"] for row in with_public["data"]} == {str(mine.pk), str(mine_public.pk), str(theirs_public.pk)}
    only_public = _list(client, "?public=true")
    assert {row["id"] for row in only_public["data"]} == {str(mine_public.pk), str(theirs_public.pk)}
    only_private = _list(client, "?public=false")
    assert [row["id"] for row in only_private["data"]] == [str(mine.pk)]


def test_the_list_filters_by_framing_view_angle_and_search(user):
    shot_type(user, name="front full", framing="full_body", view_angle="front")
    back = shot_type(user, name="back full", framing="full_body", view_angle="back", prompt="Rear Studio")
    shot_type(user, name="detail", framing="detail", view_angle="front")
    client = client_for(user)
    assert _list(client, "?framing=full_body")["count"] == 2
    assert [r["id"] for r in _list(client, "?framing=full_body&view_angle=back")["data"]] == [str(back.pk)]
    assert [r["id"] for r in _list(client, "?search=rear%20studio")["data"]] == [str(back.pk)]
    assert _list(client, "?search=FULL")["count"] == 2


@pytest.mark.parametrize(
    ("query", "loc", "kind"),
    [
        ("?framing=elbow", ["query", "framing"], "enum"),
        ("?view_angle=up", ["query", "view_angle"], "enum"),
        ("?include_public=perhaps", ["query", "include_public"], "value_error"),
        ("?skip=-1", ["query", "skip"], "greater_than_equal"),
        ("?organization_id=nope", ["query", "organization_id"], "value_error"),
    ],
)
def test_bad_list_parameters_are_a_422(user, query, loc, kind):
    assert assert_validation(client_for(user).get(f"{SHOT_TYPES}{query}"), loc)["type"] == kind


def test_the_list_pages_with_skip_and_limit(user):
    for index in range(5):
        shot_type(user, name=f"s{index}")
    client = client_for(user)
    first = _list(client, "?limit=2")
    second = _list(client, "?skip=2&limit=2")
    last = _list(client, "?skip=4&limit=2")
    assert (first["count"], len(first["data"]), len(second["data"]), len(last["data"])) == (5, 2, 2, 1)
    names = [row["name"] for page in (first, second, last) for row in page["data"]]
    assert sorted(names) == [f"s{i}" for i in range(5)] and names[0] == "s4"


def test_the_list_costs_the_same_queries_whatever_its_length(user):
    client = client_for(user)
    client.get(SHOT_TYPES)  # token lookups warm up
    shot_type(user, name="one", reference_image=resolve_media_input(image_b64(), user=user, field="x"))
    few = queries_for(lambda: client.get(SHOT_TYPES))
    for index in range(6):
        media = resolve_media_input(image_b64(), user=user, field="x")
        shot_type(user, name=f"more{index}", reference_image=media, shot_type_ref_image=media)
    assert queries_for(lambda: client.get(SHOT_TYPES)) == few


def test_owner_id_is_for_admins(user, other, admin):
    theirs = shot_type(other, name="theirs", public=False)
    public = shot_type(user, name="public")
    shot_type(user, name="private", public=False)
    refused = client_for(user).get(f"{SHOT_TYPES}?owner_id={other.pk}")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Only administrators may filter by owner_id."}
    body = _list(client_for(admin), f"?owner_id={other.pk}")
    assert {row["id"] for row in body["data"]} == {str(theirs.pk), str(public.pk)}


def test_admins_see_every_shot_type(user, other, admin):
    shot_type(user, name="a", public=False)
    shot_type(other, name="b", public=False)
    assert _list(client_for(admin))["count"] == 2


# --- get, get by name -------------------------------------------------------------------------------


def test_get_reads_own_and_public_shot_types_only(user, other):
    mine = shot_type(user, name="mine", public=False)
    public = shot_type(other, name="public")
    private = shot_type(other, name="private", public=False)
    client = client_for(user)
    for row in (mine, public):
        response = client.get(f"{SHOT_TYPES}{row.pk}")
        assert response.status_code == 200
        assert_matches(response.json(), "ShotTypePublic")
    hidden = client.get(f"{SHOT_TYPES}{private.pk}")
    assert hidden.status_code == 404 and hidden.json() == {"detail": "Shot type not found."}
    assert client.get(f"{SHOT_TYPES}not-a-uuid").status_code == 404


def test_get_by_name_prefers_the_callers_own(user, other):
    shot_type(other, name="front")
    mine = shot_type(user, name="front", public=False)
    client = client_for(user)
    response = client.get(f"{SHOT_TYPES}name/front")
    assert response.status_code == 200
    assert_matches(response.json(), "ShotTypePublic")
    assert response.json()["id"] == str(mine.pk)
    theirs = shot_type(other, name="back")
    assert client.get(f"{SHOT_TYPES}name/back").json()["id"] == str(theirs.pk)
    missing = client.get(f"{SHOT_TYPES}name/nothing")
    assert missing.status_code == 404 and missing.json() == {"detail": "Shot type not found."}


# --- update -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch"])
def test_put_and_patch_are_partial_updates(user, method):
    shot = shot_type(user, name="front_upper_body", prompt="keep me", margins="5%")
    payload = {"name": "front_upper_body_updated", "shot_type_prompt_instruction": "Updated", "view_angle": "back"}
    assert_matches(payload, "ShotTypeUpdate")
    response = getattr(client_for(user), method)(f"{SHOT_TYPES}{shot.pk}", payload, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert_matches(body, "ShotTypePublic")
    assert (body["name"], body["view_angle"], body["shot_type_prompt_instruction"]) == (
        "front_upper_body_updated",
        "back",
        "Updated",
    )
    assert (body["prompt"], body["margins"], body["framing"]) == ("keep me", "5%", "full_body")


def test_null_leaves_required_fields_alone_and_clears_optional_ones(user):
    shot = shot_type(user, name="n", prompt="old", core_focus=True)
    body = (
        client_for(user)
        .put(
            f"{SHOT_TYPES}{shot.pk}", {"name": None, "core_focus": None, "public": None, "prompt": None}, format="json"
        )
        .json()
    )
    assert (body["name"], body["core_focus"], body["public"], body["prompt"]) == ("n", True, True, None)


def test_replacing_an_image_releases_the_old_one(user):
    client = client_for(user)
    created = _create(client, {**EXAMPLE, "reference_image_url": image_b64(color=(1, 1, 1))}).json()
    old = MediaResource.objects.get(pk=created["reference_image"]["id"])
    updated = client.put(
        f"{SHOT_TYPES}{created['id']}", {"reference_image_url": image_b64(color=(9, 9, 9))}, format="json"
    ).json()
    assert updated["reference_image"]["id"] != str(old.pk)
    assert MediaResource.all_objects.get(pk=old.pk).deleted_at is not None
    assert default_storage.exists(old.storage_name)  # files go when the retention period ends
    cleared = client.put(f"{SHOT_TYPES}{created['id']}", {"reference_image_url": None}, format="json").json()
    assert cleared["reference_image"] is None and cleared["reference_image_url"] is None


def test_an_image_shared_with_another_shot_type_is_kept(user):
    client = client_for(user)
    media = resolve_media_input(image_b64(), user=user, field="x")
    first = _create(client, {**EXAMPLE, "reference_image_url": {"media_resource_id": str(media.pk)}}).json()
    _create(client, {**EXAMPLE, "name": "second", "reference_image_url": {"media_resource_id": str(media.pk)}})
    client.put(f"{SHOT_TYPES}{first['id']}", {"reference_image_url": None}, format="json")
    assert MediaResource.objects.filter(pk=media.pk).exists()


def test_renaming_onto_a_taken_name_is_a_409(user):
    shot_type(user, name="a")
    b = shot_type(user, name="b")
    response = client_for(user).patch(f"{SHOT_TYPES}{b.pk}", {"name": "a"}, format="json")
    assert response.status_code == 409


def test_someone_elses_public_shot_type_is_read_only(user, other):
    public = shot_type(other, name="public")
    client = client_for(user)
    response = client.put(f"{SHOT_TYPES}{public.pk}", {"name": "mine now"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "You are not allowed to change this resource."}
    assert client.delete(f"{SHOT_TYPES}{public.pk}").status_code == 403


def test_update_validates_like_create(user):
    shot = shot_type(user)
    response = client_for(user).patch(f"{SHOT_TYPES}{shot.pk}", {"framing": "knees"}, format="json")
    assert_validation(response, ["body", "framing"])


# --- delete and restore -----------------------------------------------------------------------------


def test_delete_soft_deletes_and_restore_brings_it_back(user, admin):
    shot = shot_type(user, name="gone")
    client = client_for(user)
    deleted = client.delete(f"{SHOT_TYPES}{shot.pk}")
    assert deleted.status_code == 200
    assert_matches(deleted.json(), "Message")
    assert deleted.json() == {"message": "Shot type deleted successfully"}
    assert client.get(f"{SHOT_TYPES}{shot.pk}").status_code == 404
    assert _list(client)["count"] == 0
    assert ShotType.all_objects.get(pk=shot.pk).deleted_at is not None

    restored = client_for(admin).post(f"{SHOT_TYPES}{shot.pk}/restore")
    assert restored.status_code == 200
    assert_matches(restored.json(), "ShotTypePublic")
    assert restored.json()["deleted_at"] is None and restored.json()["id"] == str(shot.pk)
    assert client.get(f"{SHOT_TYPES}{shot.pk}").status_code == 200


def test_restore_permission_matrix(user, other, admin):
    shot = shot_type(user)
    shot.delete()
    url = f"{SHOT_TYPES}{shot.pk}/restore"
    assert client_for().post(url).status_code == 401
    for caller in (user, other):
        refused = client_for(caller).post(url)
        assert refused.status_code == 403
        assert refused.json() == {"detail": "Only administrators may restore a shot type."}
    assert client_for(admin).post(f"{SHOT_TYPES}00000000-0000-0000-0000-000000000000/restore").status_code == 404
    assert client_for(admin).post(url).status_code == 200
    assert client_for(admin).post(url).status_code == 200  # restoring a live one changes nothing


def test_restore_refuses_a_name_taken_meanwhile(user, admin):
    shot = shot_type(user, name="front")
    shot.delete()
    shot_type(user, name="front")
    response = client_for(admin).post(f"{SHOT_TYPES}{shot.pk}/restore")
    assert response.status_code == 409
    assert "rename it" in response.json()["detail"]
