"""``ready``: a cover and a base image for every shot type the subject's guidelines need (back-view
ones excepted where a guideline allows back shots without a back image), unless held back."""

import pytest

from apps.subjects.models import Subject
from tests.guidelines.support import client_for

from .support import BASE, data_uri, shot_type

pytestmark = pytest.mark.django_db

GUIDELINES = "/api/v1/guidelines/"


@pytest.fixture
def shots(alice):
    return {
        "front": shot_type(alice.user, "front"),
        "back": shot_type(alice.user, "back", view_angle="back_left"),
    }


def ready(caller, subject_id) -> bool:
    return caller.get(f"{BASE}/{subject_id}").json()["ready"]


def guideline(caller, subject_id, *shot_types, **fields) -> dict:
    body = {"name": "Shoot", "subject_ids": [subject_id], "shot_type_ids": [str(s.pk) for s in shot_types], **fields}
    response = caller.post(GUIDELINES, body)
    assert response.status_code == 200, response.json()
    return response.json()


def add_base(caller, subject_id, shot) -> dict:
    response = caller.post(f"{BASE}/{subject_id}/base_images", {"shot_type_id": str(shot.pk), "image_url": data_uri()})
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_subject_needs_the_base_images_of_its_guidelines(alice, shots):
    subject = alice.create()
    assert subject["ready"] is True
    made = guideline(alice, subject["id"], shots["front"], shots["back"])
    assert made["subjects"][0]["ready"] is False
    assert ready(alice, subject["id"]) is False
    add_base(alice, subject["id"], shots["front"])
    assert ready(alice, subject["id"]) is False
    back = add_base(alice, subject["id"], shots["back"])
    assert ready(alice, subject["id"]) is True
    alice.delete(f"{BASE}/{subject['id']}/base_images", {"url": back["image_url"]})
    assert ready(alice, subject["id"]) is False


def test_back_shots_may_be_optional(alice, shots):
    subject = alice.create()
    made = guideline(alice, subject["id"], shots["front"], shots["back"], allow_back_shots_without_back_image=True)
    add_base(alice, subject["id"], shots["front"])
    assert ready(alice, subject["id"]) is True
    alice.put(f"{GUIDELINES}{made['id']}", {"allow_back_shots_without_back_image": False})
    assert ready(alice, subject["id"]) is False


def test_guideline_changes_deletes_and_restores_recompute_readiness(alice, admin, shots):
    subject = alice.create()
    made = guideline(alice, subject["id"], shots["front"])
    assert ready(alice, subject["id"]) is False
    alice.put(f"{GUIDELINES}{made['id']}", {"shot_type_ids": []})
    assert ready(alice, subject["id"]) is True
    alice.put(f"{GUIDELINES}{made['id']}", {"shot_type_ids": [str(shots["front"].pk)]})
    assert ready(alice, subject["id"]) is False
    alice.put(f"{GUIDELINES}{made['id']}", {"subject_ids": []})
    assert ready(alice, subject["id"]) is True
    alice.put(f"{GUIDELINES}{made['id']}", {"subject_ids": [subject["id"]]})
    assert ready(alice, subject["id"]) is False
    alice.delete(f"{GUIDELINES}{made['id']}")
    assert ready(alice, subject["id"]) is True
    client_for(admin.user).post(f"{GUIDELINES}{made['id']}/restore")
    assert ready(alice, subject["id"]) is False


def test_deleting_a_needed_shot_type_makes_the_subject_ready(alice, admin, shots):
    subject = alice.create()
    guideline(alice, subject["id"], shots["front"])
    assert alice.delete(f"/api/v1/shot-types/{shots['front'].pk}").status_code == 200
    assert ready(alice, subject["id"]) is True
    assert admin.post(f"/api/v1/shot-types/{shots['front'].pk}/restore").status_code == 200
    assert ready(alice, subject["id"]) is False


def test_without_a_cover_a_subject_is_not_ready(alice):
    subject = alice.create()
    cleared = alice.put(f"{BASE}/{subject['id']}", {"cover_image": None}).json()
    assert cleared["ready"] is False
    assert alice.put(f"{BASE}/{subject['id']}", {"cover_image": data_uri()}).json()["ready"] is True


def test_ready_false_holds_the_subject_back_and_true_releases_it_when_complete(alice, shots):
    subject = alice.create()
    held = alice.put(f"{BASE}/{subject['id']}", {"ready": False}).json()
    assert held["ready"] is False
    add_base(alice, subject["id"], shots["front"])  # changes nothing while held back
    assert ready(alice, subject["id"]) is False
    assert alice.put(f"{BASE}/{subject['id']}", {"ready": None}).json()["ready"] is False
    released = alice.put(f"{BASE}/{subject['id']}", {"ready": True}).json()
    assert released["ready"] is True


def test_ready_true_on_an_incomplete_subject_is_a_422_that_changes_nothing(alice, shots):
    subject = alice.create()
    guideline(alice, subject["id"], shots["front"], shots["back"])
    alice.put(f"{BASE}/{subject['id']}", {"ready": False})
    response = alice.put(f"{BASE}/{subject['id']}", {"ready": True, "name": "Renamed"})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "ready"]
    assert "base images are missing for the shot types back, front" in error["msg"]
    row = Subject.objects.get(pk=subject["id"])
    assert (row.name, row.held_back, row.ready) == ("Anna", True, False)
