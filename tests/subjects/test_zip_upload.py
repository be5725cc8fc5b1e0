"""ZIP uploads of base images: the task answered at once, then the archive read member by member by
the worker (eager here), bad members skipped with their reasons, archives refused whole at the caps."""

import json
import os
import zipfile
from unittest import mock

import pytest

from apps.core.errors import QueueUnavailable
from apps.core.models import MediaResource
from apps.subjects import ingest
from apps.subjects.models import Subject, SubjectBaseImagesUploadTask
from tests.sartiq_schema import assert_matches

from .support import BASE, assert_task, jpeg, organization_of, png, random_id, shot_type, stored_names
from .zips import Raw, many_members, raw_zip, zeros, zip_bytes

pytestmark = pytest.mark.django_db

METADATA = {"name": "Lea", "surname": "Vogt", "age_class": "teen", "gender": "FEMALE", "body_type": "SLIM"}


@pytest.fixture
def shots(alice):
    """The shot types an archive's file names refer to."""
    return {
        "front": shot_type(alice.user, "front_full_body"),
        "back": shot_type(alice.user, "Back Full-Body", view_angle="back"),
        "side": shot_type(alice.user, "side", default_shot_type="side_full_body"),
    }


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """Upload an archive, let the (eager) worker run when the request commits, and return the task
    as the upload answered it and as it is afterwards."""

    def send(caller, content: bytes, *, query: str = "", expect: int = 200):
        with django_capture_on_commit_callbacks(execute=True):
            response = caller.upload_zip(content, query=query)
        assert response.status_code == expect, response.json()
        if expect != 200:
            return response.json(), None
        answered = response.json()
        assert_task(answered)
        polled = caller.get(f"{BASE}/upload-tasks/{answered['id']}")
        assert polled.status_code == 200
        assert_task(polled.json())
        return answered, polled.json()

    return send


def skipped(task: dict) -> dict:
    return {entry["file"]: entry["code"] for entry in task["result_data"]["skipped"]}


# --- into an existing subject ----------------------------------------------------------------------


def test_a_good_archive_gives_base_images_cover_and_portfolio(alice, shots, upload, storage):
    subject = alice.create(name="Anna")
    content = zip_bytes(
        {
            "front_full_body.jpg": jpeg(),
            "back_full_body.PNG": png((1, 2, 3)),
            "side_full_body.webp": png((4, 5, 6)),
            "cover.png": png((7, 7, 7)),
            "portfolio/": b"",
            "portfolio/look-1.jpg": jpeg((200, 10, 10)),
            "portfolio/2024/look-2.png": png((9, 9, 9)),
        }
    )
    answered, task = upload(alice, content, query=f"?subject_id={subject['id']}")
    assert answered["status"] == "PENDING"
    assert (answered["progress"], answered["processed_items"], answered["result_data"]) == (0, 0, None)
    assert answered["subject_id"] == subject["id"] and answered["owner_id"] == str(alice.user.pk)
    assert task["status"] == "COMPLETED", task
    assert (task["progress"], task["total_items"], task["processed_items"]) == (100, 6, 6)
    assert (task["images_processed"], task["portfolio_images_processed"], task["images_skipped"]) == (4, 2, 0)
    assert task["started_at"] and task["completed_at"] and task["error_message"] is None
    result = task["result_data"]
    assert {entry["shot_type_label"] for entry in result["base_images"]} == {
        "front_full_body",
        "Back Full-Body",
        "side",
    }
    refreshed = alice.get(f"{BASE}/{subject['id']}").json()
    assert_matches(refreshed, "SubjectPublic")
    assert {base["shot_type_id"] for base in refreshed["base_images"]} == {str(s.pk) for s in shots.values()}
    assert refreshed["cover_image_url"] == result["cover_image_url"] != subject["cover_image_url"]
    assert [media["url"] for media in refreshed["portfolio_images_media"]] == [
        entry["image_url"] for entry in result["portfolio_images"]
    ]
    assert refreshed["ready"] is True
    assert stored_names(storage, ingest.ARCHIVE_PREFIX) == set()  # the archive goes once it is read
    assert SubjectBaseImagesUploadTask.objects.get().archive_name == ""


def test_a_single_top_folder_is_looked_into_and_names_match_loosely(alice, shots, upload):
    subject = alice.create()
    content = zip_bytes({"anna/Front Full Body.jpg": jpeg(), "anna/portfolio/a.jpg": jpeg((1, 1, 1))})
    _, task = upload(alice, content, query=f"?subject_id={subject['id']}")
    assert task["result_data"]["root_folder"] == "anna"
    assert (task["images_processed"], task["portfolio_images_processed"]) == (1, 1)


def test_bad_members_are_skipped_with_reasons_and_never_stop_the_rest(alice, shots, upload):
    subject = alice.create()
    content = raw_zip(
        [
            Raw("../../etc/passwd.jpg", jpeg()),
            Raw("/abs/front_full_body.jpg", jpeg()),
            Raw("nested.zip", zip_bytes({"front_full_body.jpg": jpeg()})),
            Raw("side.jpg", zip_bytes({"x.txt": b"x"})),  # an archive wearing an image's name
            Raw("notes.txt", b"hello"),
            Raw("front_full_body.jpg", b"\xff\xd8\xff\xe0 this is not really a jpeg"),
            Raw("side_full_body.png", png()[:40]),
            Raw("crc/../unknown.png", png()),
            Raw("unknown_shot.png", png()),
            Raw("FRONT_full_body.png", png(), crc=1),
            Raw("secret.png", png(), flags=1),
            Raw("misc/front_full_body.png", png()),
            Raw("__MACOSX/._side.jpg", b"x"),
            Raw("back_full_body.png", png((3, 3, 3))),
        ]
    )
    _, task = upload(alice, content, query=f"?subject_id={subject['id']}")
    assert task["status"] == "COMPLETED"
    assert skipped(task) == {
        "../../etc/passwd.jpg": "unsafe_path",
        "/abs/front_full_body.jpg": "unsafe_path",
        "nested.zip": "nested_archive",
        "side.jpg": "nested_archive",
        "notes.txt": "not_an_image",
        "front_full_body.jpg": "not_an_image",
        "side_full_body.png": "not_an_image",
        "crc/../unknown.png": "unsafe_path",
        "unknown_shot.png": "unknown_shot_type",
        "FRONT_full_body.png": "corrupt",
        "secret.png": "encrypted",
        "misc/front_full_body.png": "unknown_folder",
        "__MACOSX/._side.jpg": "system_file",
    }
    assert all(entry["reason"] for entry in task["result_data"]["skipped"])
    assert (task["images_processed"], task["images_skipped"], task["total_items"]) == (1, 13, 14)
    (base,) = alice.get(f"{BASE}/{subject['id']}/base_images").json()["data"]
    assert base["shot_type_label"] == "Back Full-Body"


def test_a_second_image_for_a_shot_type_is_skipped(alice, shots, upload):
    subject = alice.create()
    content = zip_bytes({"front_full_body.jpg": jpeg(), "FRONT_FULL_BODY.png": png()})
    _, task = upload(alice, content, query=f"?subject_id={subject['id']}")
    assert skipped(task) == {"FRONT_FULL_BODY.png": "duplicate_shot_type"}


def test_uploading_again_replaces_base_images_and_keeps_the_portfolio_free_of_repeats(alice, shots, upload):
    subject = alice.create()
    content = zip_bytes({"front_full_body.jpg": jpeg(), "portfolio/a.png": png()})
    upload(alice, content, query=f"?subject_id={subject['id']}")
    first = alice.get(f"{BASE}/{subject['id']}").json()
    _, task = upload(
        alice,
        zip_bytes({"front_full_body.jpg": jpeg((0, 0, 255)), "portfolio/a.png": png()}),
        query=f"?subject_id={subject['id']}",
    )
    assert skipped(task) == {"portfolio/a.png": "duplicate"}
    second = alice.get(f"{BASE}/{subject['id']}").json()
    assert len(second["base_images"]) == 1
    assert second["base_images"][0]["image_url"] != first["base_images"][0]["image_url"]
    assert len(second["portfolio_images_media"]) == 1
    old = MediaResource.all_objects.get(pk=first["base_images"][0]["image_url"].split("/")[4])
    assert old.deleted_at is not None  # the replaced base image was released
    latest = alice.get(f"{BASE}/{subject['id']}/base-images/upload-task").json()
    assert latest["id"] == task["id"]


def test_metadata_json_is_ignored_for_an_existing_subject(alice, shots, upload):
    subject = alice.create(name="Kept")
    content = zip_bytes({"metadata.json": json.dumps({"name": "Other"}).encode(), "front_full_body.jpg": jpeg()})
    _, task = upload(alice, content, query=f"?subject_id={subject['id']}")
    assert skipped(task) == {"metadata.json": "metadata_ignored"}
    assert Subject.objects.get(pk=subject["id"]).name == "Kept"


# --- creating the subject from metadata.json ---------------------------------------------------------


def test_an_archive_with_metadata_json_creates_the_subject(alice, shots, upload):
    content = zip_bytes(
        {
            "lea/metadata.json": json.dumps({**METADATA, "measurements": {"height_cm": 168, "shoe_eu": 38}}).encode(),
            "lea/front_full_body.jpg": jpeg(),
            "lea/portfolio/one.jpg": jpeg((5, 5, 5)),
        }
    )
    answered, task = upload(alice, content)
    assert task["status"] == "COMPLETED"
    assert (task["total_items"], task["images_processed"], task["images_skipped"]) == (3, 1, 0)
    assert task["result_data"]["created_subject"] is True
    subject = alice.get(f"{BASE}/{answered['subject_id']}").json()
    assert_matches(subject, "SubjectPublic")
    assert (subject["name"], subject["surname"], subject["slug"], subject["age_class"]) == (
        "Lea",
        "Vogt",
        "lea-vogt",
        "teen",
    )
    assert subject["measurements"]["height_cm"] == 168.0
    # No cover.* in the archive: the first base image became the cover.
    assert subject["cover_image_url"] == subject["base_images"][0]["image_url"]
    assert subject["ready"] is True and subject["owner_id"] == str(alice.user.pk)


def test_metadata_json_may_place_the_subject_in_an_organization(alice, bob, shots, upload):
    organization = organization_of(alice.user)
    content = zip_bytes({"metadata.json": json.dumps(METADATA).encode(), "cover.jpg": jpeg()})
    answered, _ = upload(alice, content, query=f"?organization_id={organization.pk}")
    assert Subject.objects.get(pk=answered["subject_id"]).organization_id == organization.pk
    response = bob.upload_zip(content, query=f"?organization_id={organization.pk}")
    assert response.status_code == 403


def test_without_subject_id_a_missing_metadata_json_is_a_422(alice, shots, upload):
    body, _ = upload(alice, zip_bytes({"front_full_body.jpg": jpeg()}), expect=422)
    assert body["detail"][0]["loc"] == ["body", "file", "metadata.json"]
    assert "no metadata.json" in body["detail"][0]["msg"]
    assert not Subject.objects.exists() and not SubjectBaseImagesUploadTask.objects.exists()


@pytest.mark.parametrize(
    ("metadata", "loc"),
    [
        (b"{not json", ["body", "file", "metadata.json"]),
        (b"[1, 2]", ["body", "file", "metadata.json"]),
        (b"\xff\xfe\x00", ["body", "file", "metadata.json"]),
        (json.dumps({"age_class": "adult"}).encode(), ["body", "file", "metadata.json", "name"]),
        (json.dumps({"name": "X", "age_class": "old"}).encode(), ["body", "file", "metadata.json", "age_class"]),
        (
            json.dumps({"name": "X", "age_class": "adult", "measurements": {"height_cm": 900}}).encode(),
            ["body", "file", "metadata.json", "measurements", "height_cm"],
        ),
        (
            json.dumps({"name": "X", "age_class": "adult", "cover_image": "http://x/y.png"}).encode(),
            ["body", "file", "metadata.json", "cover_image"],
        ),
        (
            json.dumps({"name": "X", "description": os.urandom(40_000).hex()}).encode(),
            ["body", "file", "metadata.json"],
        ),
    ],
)
def test_an_invalid_metadata_json_is_a_422(alice, upload, metadata, loc):
    body, _ = upload(alice, zip_bytes({"metadata.json": metadata, "front_full_body.jpg": jpeg()}), expect=422)
    assert loc in [error["loc"] for error in body["detail"]], body
    assert not Subject.objects.exists()


# --- archives refused whole -------------------------------------------------------------------------


def test_a_zip_bomb_is_refused(alice, upload):
    subject = alice.create()
    bomb = zip_bytes({"front_full_body.png": zeros(30 * 1024 * 1024)})
    body, _ = upload(alice, bomb, query=f"?subject_id={subject['id']}", expect=422)
    assert body["detail"][0]["loc"] == ["body", "file"]
    assert "zip bomb" in body["detail"][0]["msg"]
    assert not SubjectBaseImagesUploadTask.objects.exists()


def test_a_member_bomb_among_images_is_skipped(alice, shots, upload):
    subject = alice.create()
    noise = [os.urandom(300_000) for _ in range(3)]
    content = zip_bytes(
        {"front_full_body.png": zeros(8 * 1024 * 1024), **{f"n{i}.bin": part for i, part in enumerate(noise)}}
    )
    with mock.patch.object(ingest, "archive_limits", lambda: ingest.ArchiveLimits(max_ratio=50)):
        _, task = upload(alice, content, query=f"?subject_id={subject['id']}")
    assert skipped(task)["front_full_body.png"] == "compression_ratio"


def test_ten_thousand_and_one_members_are_refused(alice, upload):
    subject = alice.create()
    body, _ = upload(alice, many_members(10_001), query=f"?subject_id={subject['id']}", expect=422)
    assert body["detail"] == [
        {
            "loc": ["body", "file"],
            "msg": "The archive has 10,001 members; at most 10,000 are allowed.",
            "type": "too_many_members",
        }
    ]


def test_what_is_not_a_zip_is_refused(alice, upload):
    subject = alice.create()
    body, _ = upload(alice, b"just text", query=f"?subject_id={subject['id']}", expect=422)
    assert body["detail"][0]["loc"] == ["body", "file"]
    assert body["detail"][0]["type"] == "not_a_zip"


def test_a_missing_file_is_a_422(alice):
    response = alice.client.post(f"{BASE}/base-images/upload", {}, format="multipart", **alice.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


def test_an_archive_over_the_size_cap_is_a_413(alice, settings):
    settings.SUBJECT_ZIP_MAX_BYTES = 10_000
    subject = alice.create()
    content = zip_bytes({"a.bin": os.urandom(20_000)}, compression=zipfile.ZIP_STORED)
    response = alice.upload_zip(content, query=f"?subject_id={subject['id']}")
    assert response.status_code == 413
    assert response.json() == {"detail": "A ZIP upload may be at most 10,000 bytes; send a smaller archive."}
    assert not SubjectBaseImagesUploadTask.objects.exists()


# --- who may upload and poll -------------------------------------------------------------------------


def test_only_those_who_may_change_the_subject_may_upload_to_it(alice, bob, upload):
    private = alice.create()
    public = alice.create(name="Public", public=True)
    content = zip_bytes({"cover.jpg": jpeg()})
    assert bob.upload_zip(content, query=f"?subject_id={private['id']}").status_code == 404
    assert bob.upload_zip(content, query=f"?subject_id={public['id']}").status_code == 403
    assert bob.upload_zip(content, query=f"?subject_id={random_id()}").status_code == 404
    assert bob.upload_zip(content, query="?subject_id=nope").status_code == 422


def test_tasks_are_polled_by_their_owner_organization_members_and_administrators(alice, bob, admin, upload):
    organization = organization_of(alice.user, bob.user)
    personal = alice.create()
    team = alice.create(name="Team", organization_id=str(organization.pk))
    personal_task, _ = upload(alice, zip_bytes({"cover.jpg": jpeg()}), query=f"?subject_id={personal['id']}")
    team_task, _ = upload(alice, zip_bytes({"cover.jpg": jpeg()}), query=f"?subject_id={team['id']}")
    assert bob.get(f"{BASE}/upload-tasks/{personal_task['id']}").status_code == 404
    assert bob.get(f"{BASE}/upload-tasks/{team_task['id']}").status_code == 200
    assert admin.get(f"{BASE}/upload-tasks/{personal_task['id']}").status_code == 200
    assert alice.get(f"{BASE}/upload-tasks/not-a-uuid").json() == {"detail": "Upload task not found."}
    assert bob.get(f"{BASE}/{personal['id']}/base-images/upload-task").status_code == 404
    assert bob.get(f"{BASE}/{team['id']}/base-images/upload-task").json()["id"] == team_task["id"]
    empty = alice.create(name="No uploads")
    response = alice.get(f"{BASE}/{empty['id']}/base-images/upload-task")
    assert (response.status_code, response.json()) == (404, {"detail": "The subject has no upload task."})


# --- the worker's own failures --------------------------------------------------------------------


def test_a_lost_archive_fails_the_task_with_a_message(alice, storage, django_capture_on_commit_callbacks):
    subject = alice.create()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answered = alice.upload_zip(zip_bytes({"cover.jpg": jpeg()}), query=f"?subject_id={subject['id']}").json()
    task = SubjectBaseImagesUploadTask.objects.get(pk=answered["id"])
    storage.delete(task.archive_name)
    for callback in callbacks:
        callback()
    polled = alice.get(f"{BASE}/upload-tasks/{answered['id']}").json()
    assert (polled["status"], polled["error_message"]) == (
        "FAILED",
        "The uploaded archive is no longer stored; send it again.",
    )


def test_a_broker_that_refuses_the_task_withdraws_the_upload(alice, storage, django_capture_on_commit_callbacks):
    """(Through HTTP, with a real broker that is down: tests/hardening/test_failure_drills.py.)"""
    subject = alice.create()
    with (
        mock.patch("apps.core.queueing.is_eager", return_value=False),
        mock.patch("apps.subjects.tasks.ingest_base_images.delay", side_effect=ConnectionError("down")),
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            answered = alice.upload_zip(zip_bytes({"cover.jpg": jpeg()}), query=f"?subject_id={subject['id']}")
        assert SubjectBaseImagesUploadTask.objects.filter(pk=answered.json()["id"]).exists()
        (send,) = callbacks
        with pytest.raises(QueueUnavailable):
            send()  # what the commit does
    assert not SubjectBaseImagesUploadTask.objects.exists()
    assert stored_names(storage, "subjects/archives") == set()


def test_running_a_finished_task_again_changes_nothing(alice, shots, upload):
    subject = alice.create()
    answered, task = upload(alice, zip_bytes({"front_full_body.jpg": jpeg()}), query=f"?subject_id={subject['id']}")
    again = ingest.run_upload(answered["id"])
    assert again.status == "COMPLETED" and again.completed_at.isoformat().startswith(task["completed_at"][:19])
    assert MediaResource.objects.count() == 2  # the cover and one base image


def test_a_subject_deleted_before_the_worker_runs_fails_the_task(alice, django_capture_on_commit_callbacks):
    subject = alice.create()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answered = alice.upload_zip(zip_bytes({"cover.jpg": jpeg()}), query=f"?subject_id={subject['id']}").json()
    alice.delete(f"{BASE}/{subject['id']}")
    for callback in callbacks:
        callback()
    task = SubjectBaseImagesUploadTask.objects.get(pk=answered["id"])
    assert task.status == "FAILED" and "deleted" in task.error_message


def test_the_result_lists_at_most_a_thousand_skips(alice, upload, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_LISTED_SKIPS", 3)
    subject = alice.create()
    _, task = upload(alice, zip_bytes({f"n{i}.txt": b"x" for i in range(5)}), query=f"?subject_id={subject['id']}")
    assert len(task["result_data"]["skipped"]) == 3
    assert task["result_data"]["skipped_not_listed"] == 2 and task["images_skipped"] == 5


def test_an_uploaded_zip_is_stored_under_a_name_of_its_own(alice, storage, django_capture_on_commit_callbacks):
    subject = alice.create()
    with django_capture_on_commit_callbacks(execute=False):
        answered = alice.upload_zip(
            zip_bytes({"cover.jpg": jpeg()}), query=f"?subject_id={subject['id']}", name="../../evil.zip"
        ).json()
    # The client's file name never reaches storage.
    assert stored_names(storage, ingest.ARCHIVE_PREFIX) == {f"{ingest.ARCHIVE_PREFIX}/{answered['id']}.zip"}
