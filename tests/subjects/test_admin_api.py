"""The administrators' subject endpoints: copy, admin list and detail (SubjectAdmin), owner assignment
(one and many), a user's subjects, LoRA trigger and LoRA upload; everyone else gets 401 or 403."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.subjects.models import Subject, SubjectImage
from tests.sartiq_schema import assert_matches
from tests.styles.lora_support import small_lora

from .support import ADMIN_ONLY, BASE, NOT_FOUND, NOT_SIGNED_IN, data_uri, organization_of, random_id, shot_type

pytestmark = pytest.mark.django_db


def upload_lora(caller, subject_id, *, name="anna.safetensors", content=None, trigger="annab", **extra):
    lora = SimpleUploadedFile(name, content if content is not None else small_lora())
    form = {"file": lora, "lora_trigger": trigger, **extra}
    return caller.post(f"{BASE}/admin/{subject_id}/upload-lora", form, format="multipart")


def admin_paths(subject_id, user_id):
    return [
        ("get", f"{BASE}/admin/", None),
        ("get", f"{BASE}/admin/{subject_id}", None),
        ("post", f"{BASE}/{subject_id}/copy", None),
        ("post", f"{BASE}/{subject_id}/restore", None),
        ("patch", f"{BASE}/admin/{subject_id}/lora-trigger", {"lora_trigger": "x"}),
        ("patch", f"{BASE}/admin/{subject_id}/assign-owner", {"new_owner_id": str(user_id)}),
        ("post", f"{BASE}/admin/users/{user_id}/assign-subjects", {"subject_ids": [subject_id]}),
        ("get", f"{BASE}/admin/users/{user_id}/subjects", None),
        ("post", f"{BASE}/admin/{subject_id}/upload-lora", {}),
    ]


def test_only_administrators_reach_the_admin_endpoints(alice, anonymous):
    subject = alice.create()
    for method, path, body in admin_paths(subject["id"], alice.user.pk):
        response = getattr(anonymous, method)(path, body) if body is not None else getattr(anonymous, method)(path)
        assert (response.status_code, response.json()) == (401, {"detail": NOT_SIGNED_IN}), path
        response = getattr(alice, method)(path, body) if body is not None else getattr(alice, method)(path)
        assert response.status_code == 403, path
        assert response.json()["detail"] in (ADMIN_ONLY, "Only administrators may restore a subject."), path
    assert Subject.objects.get(pk=subject["id"]).owner_id == alice.user.pk


# --- copy ---------------------------------------------------------------------------------------------


def test_copy_duplicates_the_subject_and_its_media_references(alice, admin):
    front = shot_type(alice.user, "front")
    original = alice.create(
        surname="Berg",
        public=True,
        data_images=[data_uri((1, 1, 1))],
        portfolio_images=[{"url": data_uri((2, 2, 2))}],
        portrait_image=data_uri((3, 3, 3)),
        measurements={"height_cm": 170, "eye_color": "BLUE"},
        base_images=[{"shot_type_id": str(front.pk), "image_url": data_uri((4, 4, 4))}],
    )
    upload_lora(admin, original["id"])
    response = admin.post(f"{BASE}/{original['id']}/copy")
    assert response.status_code == 200, response.json()
    copy = response.json()
    assert_matches(copy, "SubjectPublic")
    assert copy["id"] != original["id"] and copy["slug"] == "anna-berg-2"
    assert (copy["owner_id"], copy["organization_id"], copy["public"]) == (str(admin.user.pk), None, False)
    for name in ("name", "surname", "age_class", "gender", "cover_image_url", "portrait_image_url", "data_image_urls"):
        assert copy[name] == original[name], name
    assert copy["portfolio_images_media"] == original["portfolio_images_media"]
    assert copy["base_images"] == original["base_images"]
    assert {key: value for key, value in copy["measurements"].items() if key != "id"} == {
        key: value for key, value in original["measurements"].items() if key != "id"
    }
    assert copy["measurements"]["id"] != original["measurements"]["id"]
    assert (copy["lora_status"], copy["lora_trigger"]) == ("none", None)  # the LoRA is not copied
    assert SubjectImage.objects.filter(subject_id=copy["id"]).count() == 2
    # Deleting the original for good keeps the copy's images.
    alice.delete(f"{BASE}/{original['id']}")
    from apps.subjects import services

    services.purge_subject(subject=Subject.all_objects.get(pk=original["id"]))
    again = admin.get(f"{BASE}/{copy['id']}")
    assert again.json()["cover_image_media"]["id"] == original["cover_image_media"]["id"]
    assert admin.get(again.json()["cover_image_url"]).status_code == 200
    assert admin.post(f"{BASE}/{random_id()}/copy").json() == NOT_FOUND


# --- admin list and detail --------------------------------------------------------------------------


def test_the_admin_list_shows_every_subject_with_admin_fields(alice, bob, admin):
    organization = organization_of(bob.user)
    first = alice.create(body_type="SLIM")
    second = bob.create(name="Team", organization_id=str(organization.pk))
    deleted = alice.create(name="Gone")
    alice.delete(f"{BASE}/{deleted['id']}")
    body = admin.get(f"{BASE}/admin/").json()
    assert_matches(body, "SubjectsAdmin")
    assert [item["id"] for item in body["data"]] == [deleted["id"], second["id"], first["id"]]
    assert body["data"][0]["deleted_at"] is not None
    assert admin.get(f"{BASE}/admin", {"body_type": "SLIM"}).json()["count"] == 1
    assert [
        item["id"] for item in admin.get(f"{BASE}/admin/", {"organization_id": str(organization.pk)}).json()["data"]
    ] == [second["id"]]
    assert admin.get(f"{BASE}/admin/", {"organization_id": random_id()}).status_code == 404
    assert admin.get(f"{BASE}/admin/", {"body_type": "ROUND"}).status_code == 422


def test_the_admin_list_query_count_does_not_grow_with_the_page(alice, admin):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get(f"{BASE}/admin/").status_code == 200
        return len(captured)

    alice.create(data_images=[data_uri()], measurements={"height_cm": 160})
    count()  # the token's first use is recorded once
    few = count()
    for index in range(5):
        alice.create(name=f"S{index}", data_images=[data_uri((index, 9, 9))], measurements={"height_cm": 160})
    assert count() == few


def test_the_admin_detail_shows_lora_filename(alice, admin):
    subject = alice.create(local_model_path="/models/loras/anna_v2.safetensors")
    body = admin.get(f"{BASE}/admin/{subject['id']}").json()
    assert_matches(body, "SubjectAdmin")
    assert (body["local_model_path"], body["lora_filename"]) == (
        "/models/loras/anna_v2.safetensors",
        "anna_v2.safetensors",
    )
    plain = admin.get(f"{BASE}/admin/{alice.create(name='Plain')['id']}").json()
    assert (plain["local_model_path"], plain["lora_filename"]) == (None, None)
    assert admin.get(f"{BASE}/admin/{random_id()}").json() == NOT_FOUND
    assert admin.get(f"{BASE}/admin/not-a-uuid").status_code == 404


# --- owners -----------------------------------------------------------------------------------------


def test_assign_owner_gives_the_subject_away_and_may_move_it(alice, bob, admin):
    subject = alice.create()
    body = {"new_owner_id": str(bob.user.pk)}
    assert_matches(body, "AssignOwnerRequest", strict=False)
    response = admin.patch(f"{BASE}/admin/{subject['id']}/assign-owner", body)
    assert response.status_code == 200, response.json()
    assert_matches(response.json(), "SubjectPublic")
    assert response.json()["owner_id"] == str(bob.user.pk)
    organization = organization_of(alice.user)
    refused = admin.patch(f"{BASE}/admin/{subject['id']}/assign-owner?organization_id={organization.pk}", body)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "new_owner_id"]
    moved = admin.patch(
        f"{BASE}/admin/{subject['id']}/assign-owner?organization_id={organization.pk}",
        {"new_owner_id": str(alice.user.pk)},
    ).json()
    assert (moved["owner_id"], moved["organization_id"]) == (str(alice.user.pk), str(organization.pk))
    unknown = admin.patch(f"{BASE}/admin/{subject['id']}/assign-owner", {"new_owner_id": random_id()})
    assert unknown.status_code == 422
    assert admin.patch(f"{BASE}/admin/{random_id()}/assign-owner", body).status_code == 404


def test_bulk_assign_gives_every_subject_or_none(alice, bob, admin):
    first, second = alice.create(name="One"), alice.create(name="Two")
    body = {"subject_ids": [first["id"], second["id"], first["id"]]}
    assert_matches(body, "BulkAssignSubjectsRequest", strict=False)
    response = admin.post(f"{BASE}/admin/users/{bob.user.pk}/assign-subjects", body)
    assert response.status_code == 200, response.json()
    assert_matches(response.json(), "Message")
    assert response.json() == {"message": f"2 subject(s) assigned to {bob.user.email}"}
    assert set(Subject.objects.values_list("owner_id", flat=True)) == {bob.user.pk}
    refused = admin.post(
        f"{BASE}/admin/users/{alice.user.pk}/assign-subjects", {"subject_ids": [first["id"], random_id()]}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "subject_ids", 1]
    assert set(Subject.objects.values_list("owner_id", flat=True)) == {bob.user.pk}
    organization = organization_of(alice.user)
    moved = admin.post(
        f"{BASE}/admin/users/{alice.user.pk}/assign-subjects?organization_id={organization.pk}",
        {"subject_ids": [first["id"]]},
    )
    assert moved.status_code == 200
    assert Subject.objects.get(pk=first["id"]).organization_id == organization.pk
    not_member = admin.post(
        f"{BASE}/admin/users/{bob.user.pk}/assign-subjects?organization_id={organization.pk}",
        {"subject_ids": [second["id"]]},
    )
    assert not_member.status_code == 422
    assert admin.post(f"{BASE}/admin/users/{random_id()}/assign-subjects", body).json() == {"detail": "User not found."}
    assert admin.post(f"{BASE}/admin/users/{bob.user.pk}/assign-subjects", {"subject_ids": []}).status_code == 422


def test_a_users_subjects_are_listed_for_administrators(alice, bob, admin):
    organization = organization_of(alice.user)
    personal = alice.create(name="Personal")
    team = alice.create(name="Team", organization_id=str(organization.pk))
    bob.create(name="Not hers")
    body = admin.get(f"{BASE}/admin/users/{alice.user.pk}/subjects").json()
    assert_matches(body, "SubjectsPublic")
    assert [item["id"] for item in body["data"]] == [team["id"], personal["id"]]
    scoped = admin.get(f"{BASE}/admin/users/{alice.user.pk}/subjects", {"organization_id": str(organization.pk)})
    assert [item["id"] for item in scoped.json()["data"]] == [team["id"]]
    assert admin.get(f"{BASE}/admin/users/{random_id()}/subjects").status_code == 404


# --- LoRA ---------------------------------------------------------------------------------------------


def test_lora_trigger_is_set_and_cleared(alice, admin):
    subject = alice.create()
    response = admin.patch(f"{BASE}/admin/{subject['id']}/lora-trigger", {"lora_trigger": " annab "})
    assert response.status_code == 200
    assert_matches(response.json(), "SubjectPublic")
    assert response.json()["lora_trigger"] == "annab"
    form = admin.patch(f"{BASE}/admin/{subject['id']}/lora-trigger", {"lora_trigger": "formed"}, format="multipart")
    assert form.json()["lora_trigger"] == "formed"
    assert admin.patch(f"{BASE}/admin/{subject['id']}/lora-trigger", {}).json()["lora_trigger"] is None
    too_long = admin.patch(f"{BASE}/admin/{subject['id']}/lora-trigger", {"lora_trigger": "x" * 129})
    assert too_long.status_code == 422


def test_upload_lora_stores_the_file_and_marks_it_ready(alice, admin, storage):
    subject = alice.create()
    response = upload_lora(admin, subject["id"], entity_type="subject")
    assert response.status_code == 200, response.json()
    assert_matches(response.json(), "SubjectPublic")
    assert (response.json()["lora_status"], response.json()["lora_trigger"]) == ("ready", "annab")
    stored = Subject.objects.get(pk=subject["id"])
    assert stored.lora_file.startswith(f"loras/subjects/{subject['id']}/") and storage.exists(stored.lora_file)
    detail = admin.get(f"{BASE}/admin/{subject['id']}").json()
    assert detail["lora_filename"] == stored.lora_file.rsplit("/", 1)[1]


def test_upload_lora_refuses_bad_files(alice, admin, settings):
    subject = alice.create()
    wrong_kind = upload_lora(admin, subject["id"], entity_type="style")
    assert (wrong_kind.status_code, wrong_kind.json()["detail"][0]["loc"]) == (422, ["body", "entity_type"])
    bad_name = upload_lora(admin, subject["id"], name="anna.exe")
    assert (bad_name.status_code, bad_name.json()["detail"][0]["loc"]) == (422, ["body", "file"])
    broken = upload_lora(admin, subject["id"], content=b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    assert broken.status_code == 422
    no_trigger = admin.post(
        f"{BASE}/admin/{subject['id']}/upload-lora",
        {"file": SimpleUploadedFile("a.safetensors", small_lora())},
        format="multipart",
    )
    assert no_trigger.json()["detail"][0]["loc"] == ["body", "lora_trigger"]
    settings.LORA_MAX_BYTES = 100
    assert upload_lora(admin, subject["id"]).status_code == 413
    assert Subject.objects.get(pk=subject["id"]).lora_status == "none"
