"""The Sartiq style resource over HTTP: create, list and its filters, get, get by slug, update (PUT
and PATCH), archive, unarchive, delete and restore, in the wire format of the spec's schemas."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.models import MediaResource
from apps.styles import services
from apps.styles.models import Style, StyleCategory
from tests.factories import UserFactory
from tests.sartiq_schema import assert_matches, assert_validation_error

from .support import BASE, NOT_FOUND, Caller, data_uri, organization_of, plain_base64, png, random_id

pytestmark = pytest.mark.django_db

SPEC_EXAMPLE = {
    "brand": "RetroFashion",
    "default_lora_weight": 0.8,
    "description": "Classic vintage denim style with worn-out look",
    "name": "Vintage Denim",
    "prompt_keywords": "vintage, denim, retro, classic",
    "public": False,
    "style_category": "VINTAGE",
    "tags": ["vintage", "denim", "retro"],
}


DROP = object()


def errors_for_missing(caller, url: str) -> list[dict]:
    """The 422 of an image URL whose server answers 404."""
    errors = detail(caller.post(f"{BASE}/", {"name": "Missing", "cover_image": url}))
    assert [error["loc"] for error in errors] == [["body", "cover_image"]]
    return errors


def detail(response) -> list[dict]:
    assert response.status_code == 422, response.json()
    assert_validation_error(response.json())
    return response.json()["detail"]


# --- create ------------------------------------------------------------------------------------------


def test_create_with_the_spec_example_answers_style_public(alice):
    body = {**SPEC_EXAMPLE, "cover_image": data_uri()}
    assert_matches(body, "StyleCreate", strict=False)
    response = alice.post(f"{BASE}/", body)
    assert response.status_code == 200
    style = response.json()
    assert_matches(style, "StylePublic")
    assert {key: style[key] for key in SPEC_EXAMPLE} == SPEC_EXAMPLE
    assert style["slug"] == "vintage-denim"
    assert style["owner_id"] == str(alice.user.pk)
    assert style["organization_id"] is None
    assert (style["enabled"], style["archived"], style["demo"]) == (True, False, False)
    assert (style["lora_status"], style["local_model_path"], style["lora_trigger"]) == ("none", None, None)
    assert (style["training_progress"], style["current_training_id"], style["training_error"]) == (0.0, None, None)
    assert style["deleted_at"] is None
    media = style["cover_image_media"]
    assert style["cover_image_url"] == media["url"]
    assert (media["width"], media["height"], media["extension"], media["resource_type"]) == (64, 48, "png", "image")
    assert style["data_image_urls"] == [] and style["data_images_media"] == []


def test_create_applies_the_spec_defaults(alice):
    style = alice.create(name="Plain")
    assert style["style_category"] == "OTHER"
    assert style["default_lora_weight"] == 0.7
    assert style["public"] is False
    assert style["tags"] == []
    assert (style["description"], style["brand"], style["prompt_keywords"]) == (None, None, None)


def test_every_media_input_form_becomes_a_media_resource(alice):
    first = alice.create(name="First")
    existing = first["cover_image_media"]["id"]
    style = alice.create(
        name="Second",
        cover_image={"url": data_uri((0, 0, 0)), "alt_text": "Black", "caption": "Cover", "protected": True},
        data_images=[
            plain_base64(),
            data_uri((250, 250, 0), (30, 90)),
            {"media_resource_id": existing, "alt_text": "Reused"},
            first["cover_image_url"],
        ],
    )
    cover = style["cover_image_media"]
    assert (cover["alt_text"], cover["caption"], cover["protected"]) == ("Black", "Cover", True)
    media = style["data_images_media"]
    assert [item["url"] for item in media] == style["data_image_urls"]
    assert len(media) == 4
    assert media[1]["orientation"] == "portrait" and (media[1]["width"], media[1]["height"]) == (30, 90)
    assert media[2]["id"] == existing and media[2]["alt_text"] == "Reused"
    assert media[3]["id"] == existing  # the URL of one's own media refers to it
    assert MediaResource.objects.count() == 4


def test_a_presigned_upload_url_is_an_image_input(alice):
    target = alice.post("/api/v1/uploads/", {"filename": "cover.png", "content_type": "image/png"}).json()
    sent = alice.client.put(target["upload_url"], png((9, 9, 9), solid=True), content_type="application/octet-stream")
    assert sent.status_code == 200, sent.json()
    style = alice.create(name="Uploaded", cover_image=target["file_url"])
    assert style["cover_image_media"]["dominant_color"] == "#090909"


def test_an_image_url_is_fetched_and_an_unsafe_one_refused(alice, image_server):
    style = alice.create(name="Fetched", cover_image=f"{image_server}/cover.png")
    assert style["cover_image_media"]["width"] == 64
    errors = detail(alice.post(f"{BASE}/", {"name": "SSRF", "cover_image": "http://169.254.169.254/latest/meta-data"}))
    assert [error["loc"] for error in errors] == [["body", "cover_image"]]
    errors = detail(alice.post(f"{BASE}/", {"name": "Loopback", "cover_image": "http://127.0.0.1:8000/admin/"}))
    assert [error["loc"] for error in errors] == [["body", "cover_image"]]
    errors = detail(alice.post(f"{BASE}/", {"name": "Huge", "cover_image": f"{image_server}/huge.png"}))
    assert [error["loc"] for error in errors] == [["body", "cover_image"]]
    assert "25 MB" in errors[0]["msg"]
    assert errors_for_missing(alice, f"{image_server}/missing.png")
    assert list(Style.objects.values_list("name", flat=True)) == ["Fetched"]


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"cover_image": "x"}, ["body", "name"], "missing"),
        ({"name": "No cover", "cover_image": DROP}, ["body", "cover_image"], "missing"),
        ({"name": "x" * 256}, ["body", "name"], "string_too_long"),
        ({"name": "  "}, ["body", "name"], "string_too_short"),
        ({"name": "n", "description": "x" * 1001}, ["body", "description"], "string_too_long"),
        ({"name": "n", "brand": "x" * 1001}, ["body", "brand"], "string_too_long"),
        ({"name": "n", "prompt_keywords": "x" * 1001}, ["body", "prompt_keywords"], "string_too_long"),
        ({"name": "n", "lora_trigger": "x" * 129}, ["body", "lora_trigger"], "string_too_long"),
        ({"name": "n", "default_lora_weight": 2.01}, ["body", "default_lora_weight"], "less_than_equal"),
        ({"name": "n", "default_lora_weight": -0.1}, ["body", "default_lora_weight"], "greater_than_equal"),
        ({"name": "n", "default_lora_weight": "nan"}, ["body", "default_lora_weight"], "finite"),
        ({"name": "n", "default_lora_weight": None}, ["body", "default_lora_weight"], "missing"),
        ({"name": "n", "style_category": "PUNK"}, ["body", "style_category"], "enum"),
        ({"name": "n", "tags": "vintage"}, ["body", "tags"], "list_type"),
        ({"name": "n", "tags": ["ok", "x" * 101]}, ["body", "tags", 1], "string_too_long"),
        ({"name": "n", "tags": ["t"] * 51}, ["body", "tags"], None),
        ({"name": "n", "data_images": [data_uri()] * 51}, ["body", "data_images"], None),
        ({"name": "n", "data_images": "one"}, ["body", "data_images"], "list_type"),
        ({"name": "n", "cover_image": 12}, ["body", "cover_image"], "value_error"),
        ({"name": "n", "cover_image": {"alt_text": "no url"}}, ["body", "cover_image"], "value_error"),
        ({"name": "n", "cover_image": {"url": 5, "width": -1}}, ["body", "cover_image", "width"], None),
        ({"name": "n", "organization_id": "not-a-uuid"}, ["body", "organization_id"], "value_error"),
    ],
)
def test_bad_input_is_a_422_with_fastapi_detail(alice, body, loc, kind):
    body = {key: value for key, value in {"cover_image": data_uri(), **body}.items() if value is not DROP}
    errors = detail(alice.post(f"{BASE}/", body))
    assert loc in [error["loc"] for error in errors]
    if kind is not None:
        assert [error["type"] for error in errors] == [kind]
    assert not Style.objects.exists()


@pytest.mark.parametrize(
    "cover",
    ["not base64 at all!", "data:image/png;base64," + "QUJD" * 10, "ftp://example.com/a.png", ""],
)
def test_an_unusable_image_is_a_422_at_its_field(alice, cover):
    errors = detail(alice.post(f"{BASE}/", {"name": "Broken", "cover_image": cover}))
    assert errors[0]["loc"] == ["body", "cover_image"]


def test_a_bad_data_image_is_located_by_its_index(alice):
    errors = detail(alice.post(f"{BASE}/", {"name": "n", "cover_image": data_uri(), "data_images": [data_uri(), "@@"]}))
    assert errors[0]["loc"] == ["body", "data_images", 1]


def test_someone_elses_media_resource_cannot_be_attached(alice, bob):
    theirs = bob.create(name="Theirs")["cover_image_media"]["id"]
    errors = detail(alice.post(f"{BASE}/", {"name": "Mine", "cover_image": {"media_resource_id": theirs}}))
    assert errors[0]["loc"] == ["body", "cover_image", "media_resource_id"]


def test_create_in_an_organization_needs_membership(alice, bob):
    organization = organization_of(alice.user)
    style = alice.create(name="Team", organization_id=str(organization.pk))
    assert style["organization_id"] == str(organization.pk)
    by_query = alice.create(name="Team 2", query=f"?organization_id={organization.pk}")
    assert by_query["organization_id"] == str(organization.pk)
    body = {"name": "Intruder", "cover_image": data_uri(), "organization_id": str(organization.pk)}
    response = bob.post(f"{BASE}/", body)
    assert response.status_code == 403
    assert response.json() == {"detail": "You are not a member of this organization."}


def test_anonymous_requests_are_refused(anonymous):
    for response in (
        anonymous.get(f"{BASE}/"),
        anonymous.post(f"{BASE}/", {"name": "x", "cover_image": data_uri()}),
        anonymous.get(f"{BASE}/{random_id()}"),
        anonymous.get(f"{BASE}/slug/anything"),
        anonymous.put(f"{BASE}/{random_id()}/archive"),
    ):
        assert response.status_code == 401
        assert response.json() == {"detail": "You are not signed in."}


# --- slugs ---------------------------------------------------------------------------------------------


def test_slugs_are_unique_and_never_change(alice, bob):
    first = alice.create(name="Vintage Denim")
    second = bob.create(name="vintage   denim!")
    assert (first["slug"], second["slug"]) == ("vintage-denim", "vintage-denim-2")
    renamed = alice.patch(f"{BASE}/{first['id']}", {"name": "Modern Denim"}).json()
    assert (renamed["name"], renamed["slug"]) == ("Modern Denim", "vintage-denim")
    assert alice.delete(f"{BASE}/{first['id']}").status_code == 200
    third = alice.create(name="Vintage Denim")
    assert third["slug"] == "vintage-denim-3"  # a deleted style keeps its slug (it can be restored)
    assert alice.create(name="日本の着物")["slug"] == "style"


def new_style(owner, name: str):
    """A style made by the service (without images, which the race does not need)."""
    data = {"name": name, "style_category": "OTHER", "default_lora_weight": 0.7, "public": False}
    return services.create_style(user=owner, owner=owner, organization=None, data={**data, "cover_image": None})


def test_a_slug_taken_after_it_was_looked_up_is_skipped(alice, monkeypatch):
    assert new_style(alice.user, "Race").slug == "race"
    # As if another creation inserted "race" between the look-up and the insert.
    monkeypatch.setattr(services, "_taken_slugs", lambda base: set())
    assert new_style(alice.user, "Race").slug == "race-2"
    assert Style.objects.filter(name="Race").count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_creations_of_one_name_all_succeed_with_distinct_slugs():
    owner = UserFactory()
    barrier = threading.Barrier(4)
    slugs, failures = [], []

    def create():
        try:
            barrier.wait()
            slugs.append(new_style(owner, "Parallel").slug)
        except Exception as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(slugs) == ["parallel", "parallel-2", "parallel-3", "parallel-4"]


def test_get_by_slug_follows_the_read_rules(alice, bob):
    private = alice.create(name="Private Look")
    public = alice.create(name="Public Look", public=True)
    response = alice.get(f"{BASE}/slug/private-look")
    assert response.status_code == 200
    assert_matches(response.json(), "StylePublic")
    assert response.json()["id"] == private["id"]
    assert bob.get(f"{BASE}/slug/private-look").json() == NOT_FOUND
    assert bob.get(f"{BASE}/slug/public-look").json()["id"] == public["id"]
    assert bob.get(f"{BASE}/slug/nothing-here").status_code == 404
    alice.delete(f"{BASE}/{private['id']}")
    assert alice.get(f"{BASE}/slug/private-look").status_code == 404


def test_get_by_slug_in_an_organization(alice, bob):
    organization = organization_of(alice.user, bob.user)
    alice.create(name="Team Look", organization_id=str(organization.pk))
    response = bob.get(f"{BASE}/slug/team-look", {"organization_id": str(organization.pk)})
    assert response.status_code == 200
    outsider = Caller(UserFactory())
    refused = outsider.get(f"{BASE}/slug/team-look", {"organization_id": str(organization.pk)})
    assert refused.status_code == 403


# --- list ----------------------------------------------------------------------------------------------


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    body = response.json()
    assert_matches(body, "StylesPublic")
    assert body["count"] >= len(body["data"])
    return [style["id"] for style in body["data"]]


def test_the_list_shows_personal_styles_newest_first(alice, bob):
    older = alice.create(name="Older")
    newer = alice.create(name="Newer")
    bob.create(name="Bob's", public=False)
    organization = organization_of(alice.user)
    alice.create(name="Team", organization_id=str(organization.pk))
    assert ids(alice.get(f"{BASE}/")) == [newer["id"], older["id"]]


def test_public_true_adds_everyones_public_styles_and_false_keeps_private_ones(alice, bob):
    mine_private = alice.create(name="Mine")
    mine_public = alice.create(name="Mine public", public=True)
    theirs_public = bob.create(name="Theirs public", public=True)
    bob.create(name="Theirs private")
    assert set(ids(alice.get(f"{BASE}/", {"public": "true"}))) == {mine_public["id"], theirs_public["id"]}
    assert ids(alice.get(f"{BASE}/", {"public": "false"})) == [mine_private["id"]]


def test_organization_scoping_needs_membership(alice, bob):
    organization = organization_of(alice.user, bob.user)
    team = alice.create(name="Team", organization_id=str(organization.pk))
    alice.create(name="Personal")
    assert ids(bob.get(f"{BASE}/", {"organization_id": str(organization.pk)})) == [team["id"]]
    outsider = Caller(UserFactory())
    response = outsider.get(f"{BASE}/", {"organization_id": str(organization.pk)})
    assert response.status_code == 403
    assert response.json() == {"detail": "You are not a member of this organization."}
    assert detail(alice.get(f"{BASE}/", {"organization_id": "nope"}))[0]["loc"] == ["query", "organization_id"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"archived": "true"}, ["archived"]),
        ({"archived": "false"}, ["plain", "demo", "disabled", "vintage"]),
        ({"demo": "1"}, ["demo"]),
        ({"enabled": "no"}, ["disabled"]),
        ({"style_category": "VINTAGE"}, ["vintage"]),
        ({"search": "DENIM"}, ["vintage"]),
        ({"search": "worn denim"}, ["vintage"]),
        ({"search": "summer"}, ["plain"]),
        ({"search": "absent"}, []),
        ({"search": "rare-brand"}, ["demo"]),
    ],
)
def test_list_filters(alice, params, expected):
    made = {
        "vintage": alice.create(name="Vintage", description="Worn denim", style_category="VINTAGE"),
        "plain": alice.create(name="Plain", tags=["summer"]),
        "demo": alice.create(name="Demo", brand="Rare-Brand"),
        "disabled": alice.create(name="Disabled"),
        "archived": alice.create(name="Archived"),
    }
    Style.objects.filter(pk=made["demo"]["id"]).update(demo=True)
    alice.patch(f"{BASE}/{made['disabled']['id']}", {"enabled": False})
    alice.put(f"{BASE}/{made['archived']['id']}/archive")
    names = {style["id"]: name for name, style in made.items()}
    assert sorted(names[i] for i in ids(alice.get(f"{BASE}/", params))) == sorted(expected)


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"archived": "maybe"}, ["query", "archived"]),
        ({"enabled": "2"}, ["query", "enabled"]),
        ({"public": "perhaps"}, ["query", "public"]),
        ({"public": "null"}, ["query", "public"]),
        ({"public": ""}, ["query", "public"]),
        ({"include_public": "null"}, ["query", "include_public"]),
        ({"organization_id": ""}, ["query", "organization_id"]),
        ({"organization_id": "null"}, ["query", "organization_id"]),
        ({"style_category": "PUNK"}, ["query", "style_category"]),
        ({"skip": "-1"}, ["query", "skip"]),
        ({"limit": "many"}, ["query", "limit"]),
    ],
)
def test_bad_list_parameters_are_a_422(alice, params, loc):
    assert [error["loc"] for error in detail(alice.get(f"{BASE}/", params))] == [loc]


def test_an_empty_owner_id_is_a_422_even_for_administrators(admin):
    assert [error["loc"] for error in detail(admin.get(f"{BASE}/", {"owner_id": ""}))] == [["query", "owner_id"]]


def test_owner_id_is_for_administrators(alice, bob, admin):
    mine = alice.create(name="Mine")
    theirs = bob.create(name="Theirs")
    public = bob.create(name="Public", public=True)
    response = alice.get(f"{BASE}/", {"owner_id": str(bob.user.pk)})
    assert response.status_code == 403
    assert set(ids(admin.get(f"{BASE}/"))) == {mine["id"], theirs["id"], public["id"]}
    assert set(ids(admin.get(f"{BASE}/", {"owner_id": str(bob.user.pk)}))) == {theirs["id"], public["id"]}


def test_skip_and_limit_page_the_list(alice):
    made = [alice.create(name=f"Style {n}")["id"] for n in range(5)]
    newest_first = list(reversed(made))
    body = alice.get(f"{BASE}/", {"skip": 1, "limit": 2}).json()
    assert body["count"] == 5
    assert [style["id"] for style in body["data"]] == newest_first[1:3]
    assert ids(alice.get(f"{BASE}/", {"skip": 4, "limit": 100})) == newest_first[4:]


def test_the_list_costs_the_same_queries_for_any_page_size(alice):
    alice.create(name="One", data_images=[data_uri()])

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert alice.get(f"{BASE}/").status_code == 200
        return len(captured.captured_queries)

    one = count_queries()
    for n in range(4):
        alice.create(name=f"More {n}", data_images=[data_uri(), data_uri((1, 2, 3))])
    assert count_queries() == one


# --- get -----------------------------------------------------------------------------------------------


def test_get_follows_the_read_rules(alice, bob):
    private = alice.create(name="Private")
    public = alice.create(name="Public", public=True)
    response = alice.get(f"{BASE}/{private['id']}")
    assert response.status_code == 200
    assert response.json() == private | {"updated_at": response.json()["updated_at"]}
    assert_matches(response.json(), "StylePublic")
    assert bob.get(f"{BASE}/{private['id']}").json() == NOT_FOUND
    assert bob.get(f"{BASE}/{public['id']}").status_code == 200
    assert alice.get(f"{BASE}/{random_id()}").json() == NOT_FOUND
    assert alice.get(f"{BASE}/not-a-uuid").status_code == 404


def test_members_read_their_organizations_styles(alice, bob):
    organization = organization_of(alice.user, bob.user)
    team = alice.create(name="Team", organization_id=str(organization.pk))
    assert bob.get(f"{BASE}/{team['id']}").status_code == 200
    assert Caller(UserFactory()).get(f"{BASE}/{team['id']}").status_code == 404


# --- update --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch"])
def test_put_and_patch_are_partial_updates(alice, method):
    style = alice.create(**{**SPEC_EXAMPLE, "name": "Old"})
    body = {
        "brand": "New RetroFashion",
        "default_lora_weight": 0.9,
        "name": "Updated Vintage Denim",
        "public": True,
        "style_category": "VINTAGE",
        "tags": ["vintage", "denim", "updated", "denim"],
    }
    assert_matches(body, "StyleUpdate", strict=False)
    response = getattr(alice, method)(f"{BASE}/{style['id']}", body)
    assert response.status_code == 200
    updated = response.json()
    assert_matches(updated, "StylePublic")
    assert updated["tags"] == ["vintage", "denim", "updated"]
    assert {key: updated[key] for key in ("brand", "default_lora_weight", "name", "public")} == {
        "brand": "New RetroFashion",
        "default_lora_weight": 0.9,
        "name": "Updated Vintage Denim",
        "public": True,
    }
    unchanged = ("description", "prompt_keywords", "slug", "cover_image_url", "owner_id", "created_at")
    assert {key: updated[key] for key in unchanged} == {key: style[key] for key in unchanged}
    assert updated["updated_at"] > style["updated_at"]


def test_null_clears_optional_texts_and_leaves_the_others(alice):
    style = alice.create(**SPEC_EXAMPLE, lora_trigger="vntg")
    updated = alice.patch(
        f"{BASE}/{style['id']}",
        {
            "description": None,
            "brand": None,
            "prompt_keywords": None,
            "lora_trigger": None,
            "name": None,
            "style_category": None,
            "default_lora_weight": None,
            "public": None,
            "enabled": None,
            "archived": None,
            "tags": None,
            "data_images": None,
        },
    ).json()
    assert (updated["description"], updated["brand"], updated["prompt_keywords"], updated["lora_trigger"]) == (
        None,
        None,
        None,
        None,
    )
    kept = ("name", "style_category", "default_lora_weight", "public", "enabled", "archived", "tags")
    assert {key: updated[key] for key in kept} == {key: style[key] for key in kept}


def test_an_empty_body_changes_nothing(alice):
    style = alice.create(name="Same")
    updated = alice.put(f"{BASE}/{style['id']}", {}).json()
    assert updated == style


def test_new_images_replace_the_old_ones_which_are_released(alice):
    style = alice.create(name="Images", data_images=[data_uri((1, 1, 1)), data_uri((2, 2, 2))])
    old_cover = style["cover_image_media"]["id"]
    kept, dropped = (item["id"] for item in style["data_images_media"])
    updated = alice.patch(
        f"{BASE}/{style['id']}",
        {"cover_image": data_uri((3, 3, 3)), "data_images": [{"media_resource_id": kept}, data_uri((4, 4, 4))]},
    ).json()
    assert updated["cover_image_media"]["id"] != old_cover
    assert updated["data_images_media"][0]["id"] == kept
    assert len(updated["data_image_urls"]) == 2
    assert not MediaResource.objects.filter(pk__in=[old_cover, dropped]).exists()
    assert MediaResource.all_objects.filter(pk__in=[old_cover, dropped], deleted_at__isnull=False).count() == 2
    cleared = alice.patch(f"{BASE}/{style['id']}", {"cover_image": None, "data_images": []}).json()
    assert (cleared["cover_image_url"], cleared["cover_image_media"], cleared["data_image_urls"]) == (None, None, [])


def test_an_image_another_style_uses_is_not_released(alice):
    first = alice.create(name="First")
    shared = first["cover_image_media"]["id"]
    second = alice.create(name="Second", cover_image={"media_resource_id": shared})
    alice.patch(f"{BASE}/{second['id']}", {"cover_image": data_uri((5, 5, 5))})
    assert MediaResource.objects.filter(pk=shared).exists()


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"name": "x" * 256}, ["body", "name"]),
        ({"default_lora_weight": 3}, ["body", "default_lora_weight"]),
        ({"style_category": "vintage"}, ["body", "style_category"]),
        ({"tags": [1, None]}, ["body", "tags", 1]),
        ({"public": "sometimes"}, ["body", "public"]),
        ({"cover_image": ["a"]}, ["body", "cover_image"]),
        ({"organization_id": "x"}, ["body", "organization_id"]),
    ],
)
def test_bad_updates_are_a_422_and_change_nothing(alice, body, loc):
    style = alice.create(name="Unchanged")
    errors = detail(alice.patch(f"{BASE}/{style['id']}", body))
    assert loc in [error["loc"] for error in errors]
    assert alice.get(f"{BASE}/{style['id']}").json() == style


def test_only_those_who_may_change_a_style_update_it(alice, bob):
    private = alice.create(name="Private")
    public = alice.create(name="Public", public=True)
    assert bob.patch(f"{BASE}/{private['id']}", {"name": "Mine now"}).json() == NOT_FOUND
    refused = bob.patch(f"{BASE}/{public['id']}", {"name": "Mine now"})
    assert refused.status_code == 403
    assert refused.json() == {"detail": "You are not allowed to change this resource."}
    assert bob.delete(f"{BASE}/{public['id']}").status_code == 403
    assert bob.put(f"{BASE}/{public['id']}/archive").status_code == 403
    assert alice.get(f"{BASE}/{public['id']}").json()["name"] == "Public"


# --- organization transfer ----------------------------------------------------------------------------


def test_a_personal_style_moves_into_an_organization_of_its_owner(alice, bob):
    organization = organization_of(alice.user)
    style = alice.create(name="Moving")
    moved = alice.put(f"{BASE}/{style['id']}", {"organization_id": str(organization.pk)}).json()
    assert moved["organization_id"] == str(organization.pk)
    strange = organization_of(bob.user)
    refused = alice.put(f"{BASE}/{moved['id']}", {"organization_id": str(strange.pk)})
    assert refused.status_code == 403


def test_only_the_organization_owner_moves_a_style_out(alice, bob):
    organization = organization_of(alice.user, bob.user)
    style = bob.create(name="Team", organization_id=str(organization.pk))
    refused = bob.patch(f"{BASE}/{style['id']}", {"organization_id": None})
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Only the organization's owner may move a resource out of it."}
    moved = alice.patch(f"{BASE}/{style['id']}", {"organization_id": None}).json()
    assert moved["organization_id"] is None
    assert Style.objects.get(pk=style["id"]).organization is None


def test_members_change_their_organizations_styles(alice, bob):
    organization = organization_of(alice.user, bob.user)
    style = alice.create(name="Team", organization_id=str(organization.pk))
    assert bob.patch(f"{BASE}/{style['id']}", {"brand": "Ours"}).json()["brand"] == "Ours"
    assert bob.put(f"{BASE}/{style['id']}/archive").json()["archived"] is True


# --- archive -------------------------------------------------------------------------------------------


def test_archive_and_unarchive(alice):
    style = alice.create(name="Seasonal")
    response = alice.put(f"{BASE}/{style['id']}/archive")
    assert response.status_code == 200
    assert_matches(response.json(), "StylePublic")
    assert response.json()["archived"] is True
    assert alice.put(f"{BASE}/{style['id']}/archive").json()["archived"] is True  # idempotent
    assert ids(alice.get(f"{BASE}/", {"archived": "true"})) == [style["id"]]
    unarchived = alice.put(f"{BASE}/{style['id']}/unarchive")
    assert unarchived.status_code == 200
    assert unarchived.json()["archived"] is False
    assert alice.put(f"{BASE}/{random_id()}/archive").json() == NOT_FOUND


# --- delete and restore --------------------------------------------------------------------------------


def test_delete_is_a_soft_delete_answering_a_message(alice):
    style = alice.create(name="Gone")
    response = alice.delete(f"{BASE}/{style['id']}")
    assert response.status_code == 200
    assert response.json() == {"message": "Style deleted successfully"}
    assert_matches(response.json(), "Message")
    assert alice.get(f"{BASE}/{style['id']}").json() == NOT_FOUND
    assert ids(alice.get(f"{BASE}/")) == []
    assert Style.all_objects.get(pk=style["id"]).deleted_at is not None
    assert alice.delete(f"{BASE}/{style['id']}").json() == NOT_FOUND


def test_restore_is_for_administrators_and_answers_the_style(alice, bob, admin, anonymous):
    style = alice.create(name="Back")
    alice.delete(f"{BASE}/{style['id']}")
    assert anonymous.post(f"{BASE}/{style['id']}/restore").status_code == 401
    for caller in (alice, bob):
        refused = caller.post(f"{BASE}/{style['id']}/restore")
        assert refused.status_code == 403
    response = admin.post(f"{BASE}/{style['id']}/restore")
    assert response.status_code == 200
    restored = response.json()
    assert_matches(restored, "StylePublic")
    assert (restored["id"], restored["slug"], restored["deleted_at"]) == (style["id"], style["slug"], None)
    assert alice.get(f"{BASE}/{style['id']}").status_code == 200
    assert admin.post(f"{BASE}/{random_id()}/restore").json() == NOT_FOUND


def test_style_categories_include_the_spec_values():
    assert {"VINTAGE", "OTHER"} <= set(StyleCategory.values)
