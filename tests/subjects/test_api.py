"""The Sartiq subject resource over HTTP: create, list and its filters, get, update (PUT and PATCH),
delete and restore, in the wire format of the spec's schemas, with the organization rules."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.models import MediaResource
from apps.subjects.models import Subject, SubjectMeasurements
from tests.factories import UserFactory
from tests.sartiq_schema import assert_matches, assert_validation_error

from .support import BASE, NOT_FOUND, Caller, data_uri, organization_of, random_id, shot_type

pytestmark = pytest.mark.django_db

SPEC_FIELDS = {
    "name": "Anna",
    "surname": "Berg",
    "description": "Studio model for knitwear",
    "age_class": "adult",
    "gender": "FEMALE",
    "subject_type": "AI",
    "body_type": "ATHLETIC",
    "positive_prompt": "natural light, freckles",
    "negative_prompt": "tattoos",
    "ethnicity": "Scandinavian",
    "public": False,
    "lora_trigger": "annaberg",
}


BASE_SHOT_TYPE_LOC = ["body", "base_images", 0, "shot_type_id"]


def detail(response) -> list[dict]:
    assert response.status_code == 422, response.json()
    assert_validation_error(response.json())
    return response.json()["detail"]


# --- create ------------------------------------------------------------------------------------------


def test_create_answers_subject_public_with_every_field(alice):
    body = {
        **SPEC_FIELDS,
        "cover_image": data_uri(),
        "portrait_image": {"url": data_uri((0, 0, 0)), "alt_text": "Portrait"},
        "data_images": [data_uri((1, 1, 1)), data_uri((2, 2, 2))],
        "portfolio_images": [{"url": data_uri((3, 3, 3)), "caption": "Look 1"}],
        "measurements": {
            "height_cm": 176,
            "bust_cm": 84.5,
            "waist_cm": 62,
            "hips_cm": 90,
            "shoe_eu": 39.5,
            "eye_color": "GREEN",
            "hair_color": "BLONDE",
        },
    }
    assert_matches(body, "SubjectCreate", strict=False)
    response = alice.post(f"{BASE}/", body)
    assert response.status_code == 200, response.json()
    subject = response.json()
    assert_matches(subject, "SubjectPublic")
    assert {key: subject[key] for key in SPEC_FIELDS} == SPEC_FIELDS
    assert subject["slug"] == "anna-berg"
    assert (subject["enabled"], subject["ready"], subject["lora_status"]) == (True, True, "none")
    assert subject["owner_id"] == str(alice.user.pk) and subject["organization_id"] is None
    assert subject["cover_image_url"] == subject["cover_image_media"]["url"]
    assert subject["portrait_image_media"]["alt_text"] == "Portrait"
    assert subject["portrait_image_url"] == subject["portrait_image_media"]["url"]
    assert subject["data_image_urls"] == [media["url"] for media in subject["data_images_media"]]
    assert len(subject["data_images_media"]) == 2
    assert [media["caption"] for media in subject["portfolio_images_media"]] == ["Look 1"]
    measurements = subject["measurements"]
    assert measurements == {
        "id": measurements["id"],
        "height_cm": 176.0,
        "bust_cm": 84.5,
        "waist_cm": 62.0,
        "hips_cm": 90.0,
        "shoe_eu": 39.5,
        "eye_color": "GREEN",
        "hair_color": "BLONDE",
    }
    assert_matches(measurements, "SubjectMeasurementsPublic")
    assert subject["base_images"] == [] and subject["deleted_at"] is None


def test_create_applies_the_spec_defaults(alice):
    subject = alice.create()
    assert (subject["gender"], subject["subject_type"], subject["public"]) == ("FEMALE", "AI", False)
    assert (subject["surname"], subject["body_type"], subject["measurements"]) == (None, None, None)
    assert subject["portrait_image_url"] is None and subject["portrait_image_media"] is None
    assert subject["data_image_urls"] == [] and subject["portfolio_images_media"] == []
    assert subject["ready"] is True  # a cover, and no guideline asks for base images


def test_create_with_base_images(alice):
    front = shot_type(alice.user, "front_full_body")
    subject = alice.create(base_images=[{"shot_type_id": str(front.pk), "image_url": data_uri((9, 9, 9))}])
    (base,) = subject["base_images"]
    assert base["shot_type_id"] == str(front.pk)
    assert base["shot_type_label"] == "front_full_body"
    assert base["image_url"].startswith("/api/v1/media/")


def test_slugs_are_unique_and_survive_renames(alice):
    first, second = alice.create(name="Mia"), alice.create(name="Mia")
    assert (first["slug"], second["slug"]) == ("mia", "mia-2")
    renamed = alice.put(f"{BASE}/{first['id']}", {"name": "Lena"}).json()
    assert renamed["slug"] == "mia"


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"name": None}, ["body", "name"], "missing"),
        ({"name": "x" * 256}, ["body", "name"], "string_too_long"),
        ({"name": 5}, ["body", "name"], "value_error"),
        ({"age_class": "ancient"}, ["body", "age_class"], "enum"),
        ({"age_class": None}, ["body", "age_class"], "missing"),
        ({"gender": "OTHER"}, ["body", "gender"], "enum"),
        ({"subject_type": "ROBOT"}, ["body", "subject_type"], "enum"),
        ({"body_type": "round"}, ["body", "body_type"], "enum"),
        ({"lora_status": "done"}, ["body", "lora_status"], "enum"),
        ({"cover_image": None}, ["body", "cover_image"], "missing"),
        ({"portfolio_images": ["a string"]}, ["body", "portfolio_images", 0], "model_type"),
        ({"data_images": [data_uri()] * 51}, ["body", "data_images"], None),
        ({"measurements": {"height_cm": 251}}, ["body", "measurements", "height_cm"], "less_than_equal"),
        ({"measurements": {"waist_cm": 10}}, ["body", "measurements", "waist_cm"], "greater_than_equal"),
        ({"measurements": {"shoe_eu": 53}}, ["body", "measurements", "shoe_eu"], "less_than_equal"),
        ({"measurements": {"shoe_eu": 14.5}}, ["body", "measurements", "shoe_eu"], "greater_than_equal"),
        ({"measurements": {"shoe_eu": 38.3}}, ["body", "measurements", "shoe_eu"], "half"),
        ({"measurements": {"bust_cm": "nan"}}, ["body", "measurements", "bust_cm"], "finite"),
        ({"measurements": {"hips_cm": True}}, ["body", "measurements", "hips_cm"], "value_error"),
        ({"measurements": {"eye_color": "PURPLE"}}, ["body", "measurements", "eye_color"], "enum"),
        ({"measurements": {"hair_color": "TEAL"}}, ["body", "measurements", "hair_color"], "enum"),
        (
            {"base_images": [{"shot_type_id": "nope", "image_url": "x"}]},
            ["body", "base_images", 0, "shot_type_id"],
            None,
        ),
        (
            {"base_images": [{"shot_type_id": random_id(), "image_url": data_uri()}]},
            ["body", "base_images", 0, "shot_type_id"],
            None,
        ),
        ({"organization_id": "not-a-uuid"}, ["body", "organization_id"], "value_error"),
        ({"base_images": [None]}, ["body", "base_images", 0], "missing"),
        ({"organization_id": 5}, ["body", "organization_id"], "value_error"),
    ],
)
def test_bad_input_is_a_422_and_changes_nothing(alice, body, loc, kind):
    body = {"name": "Anna", "age_class": "adult", "cover_image": data_uri(), **body}
    errors = detail(alice.post(f"{BASE}/", body))
    assert loc in [error["loc"] for error in errors], errors
    if kind is not None:
        assert [error["type"] for error in errors if error["loc"] == loc] == [kind]
    assert not Subject.all_objects.exists()
    assert not MediaResource.all_objects.exists()


def test_a_shot_type_of_someone_else_cannot_take_a_base_image(alice, bob):
    private = shot_type(bob.user, "bobs", public=False)
    body = {"name": "A", "age_class": "adult", "cover_image": data_uri()}
    errors = detail(
        alice.post(f"{BASE}/", {**body, "base_images": [{"shot_type_id": str(private.pk), "image_url": data_uri()}]})
    )
    assert errors[0]["loc"] == ["body", "base_images", 0, "shot_type_id"]
    assert "No shot type you can use" in errors[0]["msg"]
    public = shot_type(bob.user, "public one", public=True)
    subject = alice.create(base_images=[{"shot_type_id": str(public.pk), "image_url": data_uri()}])
    assert subject["base_images"][0]["shot_type_label"] == "public one"


def test_create_in_an_organization_needs_membership(alice, bob):
    organization = organization_of(alice.user)
    subject = alice.create(organization_id=str(organization.pk))
    assert subject["organization_id"] == str(organization.pk)
    assert alice.create(query=f"?organization_id={organization.pk}")["organization_id"] == str(organization.pk)
    body = {"name": "X", "age_class": "adult", "cover_image": data_uri(), "organization_id": str(organization.pk)}
    response = bob.post(f"{BASE}/", body)
    assert response.status_code == 403
    assert response.json() == {"detail": "You are not a member of this organization."}


def test_anonymous_requests_are_refused(anonymous):
    for response in (
        anonymous.get(f"{BASE}/"),
        anonymous.post(f"{BASE}/", {"name": "x"}),
        anonymous.get(f"{BASE}/{random_id()}"),
        anonymous.put(f"{BASE}/{random_id()}", {}),
        anonymous.delete(f"{BASE}/{random_id()}"),
        anonymous.get(f"{BASE}/{random_id()}/base_images"),
        anonymous.get(f"{BASE}/upload-tasks/{random_id()}"),
    ):
        assert response.status_code == 401
        assert response.json() == {"detail": "You are not signed in."}


# --- list -------------------------------------------------------------------------------------------


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    body = response.json()
    assert_matches(body, "SubjectsPublic")
    assert body["count"] >= len(body["data"])
    return [subject["id"] for subject in body["data"]]


def test_the_list_scopes_by_owner_organization_and_public(alice, bob, admin):
    organization = organization_of(alice.user, bob.user)
    mine = alice.create(name="Mine")
    team = alice.create(name="Team", organization_id=str(organization.pk))
    theirs_public = bob.create(name="Public", public=True)
    bob.create(name="Bob private")
    assert ids(alice.get(f"{BASE}/")) == [mine["id"]]
    assert ids(bob.get(f"{BASE}/", {"organization_id": str(organization.pk)})) == [team["id"]]
    assert set(ids(alice.get(f"{BASE}/", {"include_public": "true"}))) == {mine["id"], theirs_public["id"]}
    assert len(ids(admin.get(f"{BASE}/"))) == 4
    assert len(ids(admin.get(f"{BASE}/", {"owner_id": str(bob.user.pk)}))) == 2
    assert alice.get(f"{BASE}/", {"owner_id": str(bob.user.pk)}).status_code == 403
    outsider = Caller(UserFactory())
    response = outsider.get(f"{BASE}/", {"organization_id": str(organization.pk)})
    assert (response.status_code, response.json()) == (403, {"detail": "You are not a member of this organization."})


def test_list_filters(alice):
    front = shot_type(alice.user, "front")
    adult = alice.create(name="Adult", body_type="SLIM")
    child = alice.create(name="Child", age_class="child", body_type="PETITE")
    with_base = alice.create(
        name="Based", age_class="teen", base_images=[{"shot_type_id": str(front.pk), "image_url": data_uri()}]
    )
    assert ids(alice.get(f"{BASE}/", {"age_class": "child"})) == [child["id"]]
    assert ids(alice.get(f"{BASE}/", {"body_type": "SLIM"})) == [adult["id"]]
    assert ids(alice.get(f"{BASE}/", {"only_with_base_images": "true"})) == [with_base["id"]]
    assert len(ids(alice.get(f"{BASE}/", {"only_with_base_images": "false"}))) == 3
    front.delete()  # a base image of a deleted shot type does not count
    assert ids(alice.get(f"{BASE}/", {"only_with_base_images": "1"})) == []
    for params, loc in (
        ({"age_class": "old"}, ["query", "age_class"]),
        ({"body_type": "x"}, ["query", "body_type"]),
        ({"only_with_base_images": "maybe"}, ["query", "only_with_base_images"]),
        ({"include_public": "maybe"}, ["query", "include_public"]),
        ({"limit": "-1"}, ["query", "limit"]),
    ):
        errors = detail(alice.get(f"{BASE}/", params))
        assert errors[0]["loc"] == loc


def test_the_list_pages_with_skip_and_limit(alice):
    created = [alice.create(name=f"S{index}")["id"] for index in range(5)]
    newest_first = list(reversed(created))
    body = alice.get(f"{BASE}/", {"skip": 1, "limit": 2}).json()
    assert body["count"] == 5
    assert [subject["id"] for subject in body["data"]] == newest_first[1:3]


def test_the_list_query_count_does_not_grow_with_the_page(alice):
    front = shot_type(alice.user, "front")

    def make(count):
        for index in range(count):
            alice.create(
                name=f"N{index}",
                data_images=[data_uri((index, 1, 1))],
                portfolio_images=[{"url": data_uri((index, 2, 2))}],
                portrait_image=data_uri((index, 3, 3)),
                measurements={"height_cm": 170},
                base_images=[{"shot_type_id": str(front.pk), "image_url": data_uri((index, 4, 4))}],
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = alice.get(f"{BASE}/")
        assert response.status_code == 200
        return len(captured)

    make(2)
    small = queries()
    make(6)
    assert queries() == small


# --- get, update ------------------------------------------------------------------------------------


def test_get_by_id_follows_the_reading_rules(alice, bob):
    organization = organization_of(alice.user, bob.user)
    private = alice.create(name="Private")
    team = alice.create(name="Team", organization_id=str(organization.pk))
    public = alice.create(name="Public", public=True)
    outsider = Caller(UserFactory())
    assert alice.get(f"{BASE}/{private['id']}").json()["id"] == private["id"]
    assert bob.get(f"{BASE}/{team['id']}").status_code == 200
    assert outsider.get(f"{BASE}/{public['id']}").status_code == 200
    for caller, subject in ((bob, private), (outsider, team)):
        response = caller.get(f"{BASE}/{subject['id']}")
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert alice.get(f"{BASE}/not-a-uuid").status_code == 404
    assert outsider.put(f"{BASE}/{public['id']}", {"name": "Mine now"}).status_code == 403


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_is_partial_and_null_clears_only_nullable_fields(alice, method):
    subject = alice.create(**SPEC_FIELDS, portrait_image=data_uri((5, 5, 5)), measurements={"height_cm": 170})
    body = {"surname": None, "description": "New", "name": None, "gender": "MALE", "portrait_image": None}
    assert_matches(body, "SubjectUpdate", strict=False)
    response = getattr(alice, method)(f"{BASE}/{subject['id']}", body)
    assert response.status_code == 200, response.json()
    updated = response.json()
    assert_matches(updated, "SubjectPublic")
    assert (updated["name"], updated["surname"], updated["description"]) == ("Anna", None, "New")
    assert updated["gender"] == "MALE" and updated["age_class"] == "adult"
    assert updated["portrait_image_url"] is None
    assert updated["measurements"]["height_cm"] == 170.0
    assert updated["cover_image_url"] == subject["cover_image_url"]
    assert updated["updated_at"] > subject["updated_at"]


def test_update_changes_and_clears_measurements(alice):
    subject = alice.create(measurements={"height_cm": 170, "eye_color": "BLUE"})
    changed = alice.put(f"{BASE}/{subject['id']}", {"measurements": {"eye_color": None, "shoe_eu": 40}}).json()
    assert changed["measurements"]["height_cm"] == 170.0
    assert (changed["measurements"]["eye_color"], changed["measurements"]["shoe_eu"]) == (None, 40.0)
    created = alice.put(f"{BASE}/{alice.create(name='B')['id']}", {"measurements": {"hips_cm": 95}}).json()
    assert created["measurements"]["hips_cm"] == 95.0
    cleared = alice.put(f"{BASE}/{subject['id']}", {"measurements": None}).json()
    assert cleared["measurements"] is None
    assert SubjectMeasurements.objects.count() == 1


def test_update_replaces_images_and_releases_the_old_ones(alice):
    subject = alice.create(data_images=[data_uri((1, 1, 1))], portfolio_images=[{"url": data_uri((2, 2, 2))}])
    old = [subject["cover_image_media"]["id"], subject["data_images_media"][0]["id"]]
    old.append(subject["portfolio_images_media"][0]["id"])
    body = {
        "cover_image": data_uri((7, 7, 7)),
        "data_images": [data_uri((8, 8, 8))],
        "portfolio_images": [{"url": data_uri((9, 9, 9))}, {"media_resource_id": old[2]}],
    }
    updated = alice.patch(f"{BASE}/{subject['id']}", body).json()
    assert updated["cover_image_media"]["id"] not in old
    assert [media["id"] for media in updated["portfolio_images_media"]][1] == old[2]
    assert set(MediaResource.all_objects.filter(pk__in=old, deleted_at__isnull=False).values_list("pk", flat=True)) == {
        MediaResource.all_objects.get(pk=old[0]).pk,
        MediaResource.all_objects.get(pk=old[1]).pk,
    }
    unchanged = alice.patch(f"{BASE}/{subject['id']}", {"data_images": None, "portfolio_images": None}).json()
    assert unchanged["data_image_urls"] == updated["data_image_urls"]


def test_a_refused_update_changes_nothing(alice):
    subject = alice.create()
    errors = detail(alice.put(f"{BASE}/{subject['id']}", {"name": "Changed", "cover_image": "@@not an image"}))
    assert errors[0]["loc"] == ["body", "cover_image"]
    assert alice.get(f"{BASE}/{subject['id']}").json()["name"] == "Anna"


def test_transfer_into_and_out_of_an_organization(alice, bob):
    organization = organization_of(alice.user, bob.user)
    subject = alice.create()
    moved = alice.put(f"{BASE}/{subject['id']}", {"organization_id": str(organization.pk)}).json()
    assert moved["organization_id"] == str(organization.pk)
    response = bob.put(f"{BASE}/{subject['id']}", {"organization_id": None})
    assert response.status_code == 403
    back = alice.put(f"{BASE}/{subject['id']}", {"organization_id": None}).json()
    assert back["organization_id"] is None


# --- delete, restore -------------------------------------------------------------------------------


def test_delete_is_soft_and_restore_is_for_administrators(alice, bob, admin):
    subject = alice.create()
    assert bob.delete(f"{BASE}/{subject['id']}").status_code == 404
    response = alice.delete(f"{BASE}/{subject['id']}")
    assert (response.status_code, response.json()) == (200, {"message": "Subject deleted successfully"})
    assert_matches(response.json(), "Message")
    assert alice.get(f"{BASE}/{subject['id']}").status_code == 404
    assert Subject.all_objects.filter(pk=subject["id"], deleted_at__isnull=False).exists()
    response = alice.post(f"{BASE}/{subject['id']}/restore")
    assert (response.status_code, response.json()) == (403, {"detail": "Only administrators may restore a subject."})
    restored = admin.post(f"{BASE}/{subject['id']}/restore")
    assert restored.status_code == 200
    assert_matches(restored.json(), "SubjectPublic")
    assert restored.json()["deleted_at"] is None and restored.json()["slug"] == subject["slug"]
    assert admin.post(f"{BASE}/{random_id()}/restore").status_code == 404
