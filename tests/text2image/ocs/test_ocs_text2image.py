"""OCS text2image API through HTTP: availability, schedule (inline with the procedural provider, or
queued when the provider is slower than the inline budget), fetching a task and its images (GET and
POST), deleting, and listing by app (GET and DELETE), in JSON and XML, v1 and v2."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from apps.items.models import Item
from apps.text2image.models import GenerationJob, Text2ImageTask
from apps.text2image.selectors import job_items
from tests.text2image.ocs.support import (
    OCS_HEADER,
    TEXT2IMAGE_TASK_KEYS,
    basic_for,
    ocs_json,
    ocs_xml,
    url,
    v1_meta,
    v2_meta,
    xml_value,
)

pytestmark = pytest.mark.django_db

PROMPT = "a lighthouse on a cliff at dawn"


def schedule(client, who, *, version=2, fmt="json", **values):
    payload = {"input": PROMPT, "appId": "assistant", **values}
    return client.post(url(version, f"text2image/schedule?format={fmt}"), payload, format="json", **OCS_HEADER, **who)


def fetch(client, who, task_id, *, version=2, verb="get"):
    return getattr(client, verb)(url(version, f"text2image/task/{task_id}?format=json"), **OCS_HEADER, **who)


# --- availability --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [1, 2])
def test_is_available_with_the_mapped_model(client, ocs_model, version):
    response = client.get(url(version, "text2image/is_available"), {"format": "json"}, **OCS_HEADER)
    assert response.status_code == 200
    ocs = ocs_json(response)
    assert ocs["meta"] == (v2_meta(200) if version == 2 else v1_meta(100))
    assert ocs["data"] == {"isAvailable": True}
    meta, data = ocs_xml(client.get(url(version, "text2image/is_available"), **OCS_HEADER))
    assert meta[1] == ("statuscode", "200" if version == 2 else "100")
    assert xml_value(data) == {"isAvailable": "1"}


def test_not_available_without_the_model_or_when_it_is_disabled(client, ocs_model, settings):
    ocs_model.enabled = False
    ocs_model.save(update_fields=["enabled"])
    assert ocs_json(client.get(url(2, "text2image/is_available?format=json"), **OCS_HEADER))["data"] == {
        "isAvailable": False
    }
    _, data = ocs_xml(client.get(url(2, "text2image/is_available"), **OCS_HEADER))
    assert xml_value(data) == {"isAvailable": None}  # false is an empty element
    settings.OCS_TEXT2IMAGE_MODEL = "no-such-model"
    assert ocs_json(client.get(url(2, "text2image/is_available?format=json"), **OCS_HEADER))["data"] == {
        "isAvailable": False
    }


@pytest.mark.parametrize("version", [1, 2])
def test_schedule_without_a_provider_is_412(client, user, settings, version):
    settings.OCS_TEXT2IMAGE_MODEL = "no-such-model"
    response = schedule(client, basic_for(user), version=version)
    message = "No text to image provider is available"
    assert response.status_code == (412 if version == 2 else 200)
    ocs = ocs_json(response)
    assert ocs["meta"] == (v2_meta(412, message) if version == 2 else v1_meta(412, message))
    assert ocs["data"] == {"message": message}
    assert not Text2ImageTask.objects.exists() and not GenerationJob.objects.exists()


# --- schedule ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [1, 2])
def test_schedule_runs_inline_and_answers_a_successful_task(client, user, ocs_model, version):
    response = schedule(client, basic_for(user), version=version, identifier="card-1", numberOfImages=3)
    assert response.status_code == 200, response.content
    ocs = ocs_json(response)
    assert ocs["meta"] == (v2_meta(200) if version == 2 else v1_meta(100))
    task = ocs["data"]["task"]
    assert list(task) == TEXT2IMAGE_TASK_KEYS
    stored = Text2ImageTask.objects.select_related("job").get()
    assert task == {
        "id": stored.pk,
        "status": 3,
        "userId": user.username,
        "appId": "assistant",
        "numberOfImages": 3,
        "input": PROMPT,
        "identifier": "card-1",
        "completionExpectedAt": int(stored.completion_expected_at.timestamp()),
    }
    job = stored.job
    assert (job.kind, job.status, job.model_id, job.batch_size) == ("ocs_image", "completed", ocs_model.model_id, 3)
    assert job.raw_prompt == PROMPT and job.owner == user
    assert [item.status for item in job_items(job)] == ["completed"] * 3


def test_schedule_in_xml(client, user, ocs_model):
    meta, data = ocs_xml(schedule(client, basic_for(user), fmt="xml", numberOfImages=1))
    assert meta == [("status", "ok"), ("statuscode", "200"), ("message", "OK")]
    assert [child.tag for child in data.find("task")] == TEXT2IMAGE_TASK_KEYS
    values = xml_value(data)["task"]
    assert (values["status"], values["numberOfImages"], values["identifier"]) == ("3", "1", None)


def test_number_of_images_defaults_to_8_and_is_capped_by_the_setting(client, user, ocs_model, settings):
    assert ocs_json(schedule(client, basic_for(user)))["data"]["task"]["numberOfImages"] == 8
    settings.OCS_TEXT2IMAGE_MAX_IMAGES = 2
    task = ocs_json(schedule(client, basic_for(user), numberOfImages=50))["data"]["task"]
    assert task["numberOfImages"] == 2
    assert Text2ImageTask.objects.get(pk=task["id"]).job.batch_size == 2


def test_number_of_images_is_capped_by_what_the_tier_may_generate_at_once(client, user, ocs_model):
    ocs_model.tier0_concurrent = 2
    ocs_model.save(update_fields=["tier0_concurrent"])
    task = ocs_json(schedule(client, basic_for(user)))["data"]["task"]
    assert (task["numberOfImages"], task["status"]) == (2, 3)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "numberOfImages: Ensure this value is greater than or equal to 1."),
        ("many", "numberOfImages: A valid integer is required."),
    ],
)
def test_a_bad_number_of_images_is_400(client, user, ocs_model, value, message):
    response = schedule(client, basic_for(user), numberOfImages=value)
    assert response.status_code == 400
    assert ocs_json(response)["data"] == {"message": message}


def test_a_slow_provider_is_scheduled_and_answers_status_1(
    client, user, ocs_model, settings, django_capture_on_commit_callbacks
):
    settings.OCS_INLINE_SHARE = 0  # nothing fits the inline budget
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        task = ocs_json(schedule(client, basic_for(user), numberOfImages=2))["data"]["task"]
    assert task["status"] == 1
    assert Text2ImageTask.objects.get().job.status == "queued"
    image = client.get(url(2, f"text2image/task/{task['id']}/image/0?format=json"), **OCS_HEADER, **basic_for(user))
    assert image.status_code == 404
    assert ocs_json(image)["data"] == {"message": "Image not found"}
    for callback in callbacks:
        callback()  # the commit sends the job to Celery (eager here)
    assert ocs_json(fetch(client, basic_for(user), task["id"]))["data"]["task"]["status"] == 3


def test_a_failed_generation_is_status_4(client, user, ocs_model, settings):
    settings.GENERATION_PROVIDERS = {"procedural": "tests.text2image.ocs.support.FailingProvider"}
    task = ocs_json(schedule(client, basic_for(user), numberOfImages=1))["data"]["task"]
    job = Text2ImageTask.objects.get().job
    assert (job.status, job.error_message) == ("failed", "The GPU caught fire.")
    assert task["status"] == 4
    image = client.get(url(2, f"text2image/task/{task['id']}/image/0?format=json"), **OCS_HEADER, **basic_for(user))
    assert ocs_json(image)["data"] == {"message": "Image not found"}


# --- fetch a task and its images -------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["get", "post"])
@pytest.mark.parametrize("version", [1, 2])
def test_fetch_a_task_with_get_or_post(client, user, ocs_model, verb, version):
    created = ocs_json(schedule(client, basic_for(user), numberOfImages=1))["data"]["task"]
    response = fetch(client, basic_for(user), created["id"], version=version, verb=verb)
    assert response.status_code == 200
    ocs = ocs_json(response)
    assert ocs["meta"] == (v2_meta(200) if version == 2 else v1_meta(100))
    assert ocs["data"] == {"task": created}


@pytest.mark.parametrize("verb", ["get", "post"])
@pytest.mark.parametrize("version", [1, 2])
def test_images_are_raw_bytes_with_their_content_type(client, user, ocs_model, verb, version):
    task = ocs_json(schedule(client, basic_for(user), numberOfImages=2))["data"]["task"]
    job = Text2ImageTask.objects.get().job
    items = list(job_items(job))
    for index, item in enumerate(items):
        response = getattr(client, verb)(
            url(version, f"text2image/task/{task['id']}/image/{index}"), **OCS_HEADER, **basic_for(user)
        )
        assert response.status_code == 200
        assert response["Content-Type"] == item.file.content_type
        assert response["Content-Type"].startswith("image/")
        image = Image.open(io.BytesIO(response.content))
        assert image.size == (item.width, item.height) == (64, 64)
        assert Image.MIME[image.format] == response["Content-Type"]
    first = client.get(url(2, f"text2image/task/{task['id']}/image/0"), **OCS_HEADER, **basic_for(user)).content
    second = client.get(url(2, f"text2image/task/{task['id']}/image/1"), **OCS_HEADER, **basic_for(user)).content
    assert first != second


@pytest.mark.parametrize("version", [1, 2])
def test_an_image_index_out_of_range_is_404_image_not_found(client, user, ocs_model, version):
    task = ocs_json(schedule(client, basic_for(user), numberOfImages=1))["data"]["task"]
    response = client.get(
        url(version, f"text2image/task/{task['id']}/image/1?format=json"), **OCS_HEADER, **basic_for(user)
    )
    assert response.status_code == (404 if version == 2 else 200)
    ocs = ocs_json(response)
    assert ocs["meta"] == (v2_meta(404, "Image not found") if version == 2 else v1_meta(998, "Image not found"))
    assert ocs["data"] == {"message": "Image not found"}
    meta, data = ocs_xml(client.get(url(2, f"text2image/task/{task['id']}/image/5"), **OCS_HEADER, **basic_for(user)))
    assert meta == [("status", "failure"), ("statuscode", "404"), ("message", "Image not found")]
    assert xml_value(data) == {"message": "Image not found"}


def test_someone_elses_task_and_its_images_are_404_task_not_found(client, user, other_user, ocs_model):
    theirs = ocs_json(schedule(client, basic_for(other_user), numberOfImages=1))["data"]["task"]
    for path in (f"text2image/task/{theirs['id']}", f"text2image/task/{theirs['id']}/image/0", "text2image/task/99999"):
        response = client.get(url(2, f"{path}?format=json"), **OCS_HEADER, **basic_for(user))
        assert response.status_code == 404
        assert ocs_json(response)["data"] == {"message": "Task not found"}


# --- delete --------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [1, 2])
def test_delete_answers_the_task_and_removes_it_with_its_images(client, user, ocs_model, version):
    task = ocs_json(schedule(client, basic_for(user), numberOfImages=2))["data"]["task"]
    job = Text2ImageTask.objects.get().job
    response = client.delete(url(version, f"text2image/task/{task['id']}?format=json"), **OCS_HEADER, **basic_for(user))
    assert response.status_code == 200
    assert ocs_json(response)["data"] == {"task": task}
    assert not Text2ImageTask.objects.exists()
    assert Item.objects.filter(generation_id=str(job.pk)).count() == 0  # out of the library
    assert Item.all_objects.filter(generation_id=str(job.pk), deleted_at__isnull=False).count() == 2
    assert fetch(client, basic_for(user), task["id"]).status_code == 404
    image = client.get(url(2, f"text2image/task/{task['id']}/image/0?format=json"), **OCS_HEADER, **basic_for(user))
    assert image.status_code == 404


def test_deleting_a_queued_task_cancels_its_job(client, user, ocs_model, settings, django_capture_on_commit_callbacks):
    settings.OCS_INLINE_SHARE = 0
    with django_capture_on_commit_callbacks(execute=False):
        task = ocs_json(schedule(client, basic_for(user), numberOfImages=1))["data"]["task"]
    job = Text2ImageTask.objects.get().job
    response = client.delete(url(2, f"text2image/task/{task['id']}?format=json"), **OCS_HEADER, **basic_for(user))
    assert ocs_json(response)["data"]["task"]["status"] == 1  # as it was when deleted
    job.refresh_from_db()
    assert job.status == "cancelled"


def test_delete_someone_elses_task_is_404(client, user, other_user, ocs_model):
    theirs = ocs_json(schedule(client, basic_for(other_user), numberOfImages=1))["data"]["task"]
    response = client.delete(url(2, f"text2image/task/{theirs['id']}?format=json"), **OCS_HEADER, **basic_for(user))
    assert response.status_code == 404
    assert Text2ImageTask.objects.filter(pk=theirs["id"]).exists()


# --- list by app ---------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["get", "delete"])
@pytest.mark.parametrize("version", [1, 2])
def test_list_by_app_with_get_or_delete_deletes_nothing(client, user, other_user, ocs_model, verb, version):
    first = ocs_json(schedule(client, basic_for(user), appId="notes", identifier="a", numberOfImages=1))["data"]["task"]
    second = ocs_json(schedule(client, basic_for(user), appId="notes", identifier="b", numberOfImages=1))["data"][
        "task"
    ]
    ocs_json(schedule(client, basic_for(user), appId="mail", numberOfImages=1))
    ocs_json(schedule(client, basic_for(other_user), appId="notes", numberOfImages=1))

    def listed(query=""):
        response = getattr(client, verb)(
            url(version, f"text2image/tasks/app/notes?format=json{query}"), **OCS_HEADER, **basic_for(user)
        )
        assert response.status_code == 200
        ocs = ocs_json(response)
        assert ocs["meta"] == (v2_meta(200) if version == 2 else v1_meta(100))
        return ocs["data"]

    assert listed() == {"tasks": [first, second]}
    assert listed("&identifier=a") == {"tasks": [first]}
    assert Text2ImageTask.objects.count() == 4
    _, data = ocs_xml(
        getattr(client, verb)(url(version, "text2image/tasks/app/notes"), **OCS_HEADER, **basic_for(user))
    )
    tasks = data.find("tasks")
    assert [child.tag for child in tasks] == ["element", "element"]
    assert [[field.tag for field in element] for element in tasks] == [TEXT2IMAGE_TASK_KEYS] * 2


def test_list_by_app_queries_do_not_grow_with_the_tasks(client, user, ocs_model):
    def count_queries(n):
        Text2ImageTask.objects.all().delete()
        for _ in range(n):
            ocs_json(schedule(client, basic_for(user), appId="bulk", numberOfImages=1))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url(2, "text2image/tasks/app/bulk?format=json"), **OCS_HEADER, **basic_for(user))
        assert len(ocs_json(response)["data"]["tasks"]) == n
        return len(captured)

    assert count_queries(1) == count_queries(5)


def test_the_engines_refusals_pass_through(client, user, ocs_model):
    """Abuse level 1 blocks generation (the job service refuses): nothing is created."""
    user.abuse_level = 1
    user.save(update_fields=["abuse_level"])
    response = schedule(client, basic_for(user), numberOfImages=1)
    assert response.status_code == 403
    assert ocs_json(response)["meta"]["statuscode"] == 403
    assert not Text2ImageTask.objects.exists() and not GenerationJob.objects.exists()


@pytest.mark.parametrize("version", [1, 2])
def test_fetch_and_delete_in_xml(client, user, ocs_model, version):
    created = ocs_json(schedule(client, basic_for(user), numberOfImages=1))["data"]["task"]
    expected = {key: (str(value) if value not in ("", None) else None) for key, value in created.items()}
    ok = ("statuscode", "200" if version == 2 else "100")
    for verb in ("get", "post", "delete"):
        response = getattr(client, verb)(
            url(version, f"text2image/task/{created['id']}"), **OCS_HEADER, **basic_for(user)
        )
        assert response.status_code == 200
        meta, data = ocs_xml(response)
        assert meta[:2] == [("status", "ok"), ok]
        assert [child.tag for child in data.find("task")] == TEXT2IMAGE_TASK_KEYS
        assert xml_value(data) == {"task": expected}
    meta, data = ocs_xml(client.get(url(version, f"text2image/task/{created['id']}"), **OCS_HEADER, **basic_for(user)))
    assert meta[1] == ("statuscode", "404" if version == 2 else "998")
    assert xml_value(data) == {"message": "Task not found"}
