"""The requests the real Nextcloud clients send, rebuilt from their published source, one test per
client call, with what each client reads from the answer.

- Nextcloud Android library (``com.owncloud.android.lib.resources.assistant.v1``): textprocessing
  only. ``NextcloudClient`` sends HTTP Basic (login name and app password) and, for these
  operations, ``OCS-APIRequest: true``; reads go to ``...?format=json`` and are parsed with Gson
  (``ServerResponse<T>.ocs.data``); writes only check for HTTP 200.
- iOS NextcloudKit (``NextcloudKit+Assistant.swift``, "v1"): textprocessing only. Every request
  carries Basic auth, ``Accept: application/json``, ``OCS-APIRequest: true`` and, in the versions
  that set it, ``Content-Type: application/x-www-form-urlencoded`` (a schedule's parameters are a
  form body, ``URLEncoding.default``). It reads ``ocs.meta.statuscode`` (2xx) and ``ocs.data``.
  NextcloudKit joins its base URL and endpoints that start with ``/`` with a double slash
  (``https://cloud//ocs/v2.php/...``), which the reverse proxy in front merges (docs: operations).
- Dart ``nextcloud`` package (neon, ``core.openapi.dart``, generated from Nextcloud's OpenAPI):
  text2image and textprocessing. ``Accept: application/json`` (``*/*`` for images),
  ``OCS-APIRequest: true``, Basic auth when configured, and JSON request bodies.
"""

import json

import pytest

from apps.text2image.models import Text2ImageTask, TextProcessingTask
from tests.factories import PASSWORD
from tests.text2image.ocs.support import (
    ARTICLE,
    HEADLINE,
    SUMMARY,
    TOPICS,
    basic,
)

pytestmark = pytest.mark.django_db

ANDROID_AGENT = "Mozilla/5.0 (Android) Nextcloud-android/3.31.0"
IOS_AGENT = "Mozilla/5.0 (iOS) Nextcloud-iOS/6.0.0"
DART_AGENT = "neon"


@pytest.fixture
def android(user):
    from apps.accounts import services

    _, app_password = services.create_app_password(user=user, name="Android")
    return {"HTTP_USER_AGENT": ANDROID_AGENT, "HTTP_OCS_APIREQUEST": "true", **basic(user.username, app_password)}


@pytest.fixture
def ios(user):
    from apps.accounts import services

    _, app_password = services.create_app_password(user=user, name="iPhone")
    return {
        "HTTP_USER_AGENT": IOS_AGENT,
        "HTTP_ACCEPT": "application/json",
        "HTTP_OCS_APIREQUEST": "true",
        **basic(user.username, app_password),
    }


@pytest.fixture
def dart(user):
    return {
        "HTTP_USER_AGENT": DART_AGENT,
        "HTTP_ACCEPT": "application/json",
        "HTTP_OCS_APIREQUEST": "true",
        **basic(user.username, PASSWORD),
    }


def text_task(user, task_type=SUMMARY, app_id="assistant") -> TextProcessingTask:
    from apps.text2image.selectors.ocs import Requester
    from apps.text2image.services import ocs

    return ocs.schedule_text_task(
        requester=Requester(user=user), task_type=task_type, text=ARTICLE, app_id=app_id, inline_budget=30
    )


def assert_android_task(task: dict):
    """Gson's ``v1.model.Task``: id Long, type String?, status Long?, userId/appId/input/output/
    identifier String?, completionExpectedAt String? (Gson reads a JSON number into it)."""
    assert isinstance(task["id"], int) and isinstance(task["status"], int)
    for key in ("type", "userId", "appId", "input", "output", "identifier"):
        assert task[key] is None or isinstance(task[key], str)
    assert isinstance(task["completionExpectedAt"], int)


def assert_ios_task(task: dict):
    """``NKTextProcessingTask(json:)``: id .int, type .string, status .int, ..., completionExpectedAt .double."""
    assert isinstance(task["id"], int) and isinstance(task["status"], int)
    assert isinstance(task["type"], str) and isinstance(task["input"], str)
    assert isinstance(task["completionExpectedAt"], (int, float))


# --- Android library ---------------------------------------------------------------------------------


def test_android_get_task_types(client, android):
    """GetTaskTypesRemoteOperationV1: GET /ocs/v2.php/textprocessing/tasktypes?format=json."""
    response = client.get("/ocs/v2.php/textprocessing/tasktypes?format=json", **android)
    assert response.status_code == 200
    types = response.json()["ocs"]["data"]["types"]
    assert [t["id"] for t in types] == [SUMMARY, HEADLINE, TOPICS]
    assert all(set(t) == {"id", "name", "description"} for t in types)


def test_android_create_task(client, android, user):
    """CreateTaskRemoteOperationV1: POST /ocs/v2.php/textprocessing/schedule, a JSON body
    (``hashMapOf(input, type, appId="assistant", identifier="")``), no format: success is HTTP 200."""
    response = client.post(
        "/ocs/v2.php/textprocessing/schedule",
        data=json.dumps({"input": ARTICLE, "type": TOPICS, "appId": "assistant", "identifier": ""}),
        content_type="application/json; charset=utf-8",
        **android,
    )
    assert response.status_code == 200
    task = TextProcessingTask.objects.get()
    assert (task.owner, task.task_type, task.app_id, task.identifier, task.status) == (user, TOPICS, "assistant", "", 3)


def test_android_get_task_list(client, android, user):
    """GetTaskListRemoteOperationV1: GET /ocs/v2.php/textprocessing/tasks/app/{appId}?format=json."""
    created = [text_task(user), text_task(user, HEADLINE), text_task(user, app_id="other")]
    response = client.get("/ocs/v2.php/textprocessing/tasks/app/assistant?format=json", **android)
    assert response.status_code == 200
    tasks = response.json()["ocs"]["data"]["tasks"]
    assert [task["id"] for task in tasks] == [created[0].pk, created[1].pk]
    for task in tasks:
        assert_android_task(task)


def test_android_delete_task(client, android, user):
    """DeleteTaskRemoteOperationV1: DELETE /ocs/v2.php/textprocessing/task/{id}: success is HTTP 200."""
    task = text_task(user)
    response = client.delete(f"/ocs/v2.php/textprocessing/task/{task.pk}", **android)
    assert response.status_code == 200
    assert not TextProcessingTask.objects.exists()


# --- iOS NextcloudKit ----------------------------------------------------------------------------------


def test_ios_text_processing_get_types(client, ios):
    """textProcessingGetTypes: GET ocs/v2.php/textprocessing/tasktypes (Accept JSON, no format)."""
    response = client.get(
        "/ocs/v2.php/textprocessing/tasktypes", CONTENT_TYPE="application/x-www-form-urlencoded", **ios
    )
    body = response.json()
    assert 200 <= body["ocs"]["meta"]["statuscode"] < 300
    assert [t["name"] for t in body["ocs"]["data"]["types"]] == ["Summarize", "Generate headline", "Extract topics"]


def test_ios_text_processing_schedule(client, ios, user):
    """textProcessingSchedule: POST /ocs/v2.php/textprocessing/schedule, form-encoded
    ``appId=assistant&identifier=...&input=...&type=...`` (Alamofire sorts the keys)."""
    from urllib.parse import urlencode

    form = urlencode(sorted({"input": ARTICLE, "type": HEADLINE, "appId": "assistant", "identifier": "ios-1"}.items()))
    response = client.post(
        "/ocs/v2.php/textprocessing/schedule", data=form, content_type="application/x-www-form-urlencoded", **ios
    )
    body = response.json()
    assert 200 <= body["ocs"]["meta"]["statuscode"] < 300
    task = body["ocs"]["data"]["task"]
    assert_ios_task(task)
    assert (task["type"], task["identifier"], task["status"], task["userId"]) == (HEADLINE, "ios-1", 3, user.username)


def test_ios_text_processing_get_task(client, ios, user):
    """textProcessingGetTask: GET /ocs/v2.php/textprocessing/task/{id}."""
    task = text_task(user)
    response = client.get(
        f"/ocs/v2.php/textprocessing/task/{task.pk}", CONTENT_TYPE="application/x-www-form-urlencoded", **ios
    )
    body = response.json()
    assert body["ocs"]["meta"]["statuscode"] == 200
    assert_ios_task(body["ocs"]["data"]["task"])
    assert body["ocs"]["data"]["task"]["output"] == task.output


def test_ios_text_processing_delete_task(client, ios, user):
    """textProcessingDeleteTask: DELETE /ocs/v2.php/textprocessing/task/{id}; reads ocs.data.task."""
    task = text_task(user)
    response = client.delete(
        f"/ocs/v2.php/textprocessing/task/{task.pk}", CONTENT_TYPE="application/x-www-form-urlencoded", **ios
    )
    body = response.json()
    assert body["ocs"]["meta"]["statuscode"] == 200
    assert body["ocs"]["data"]["task"]["id"] == task.pk
    assert not TextProcessingTask.objects.exists()


def test_ios_text_processing_task_list(client, ios, user):
    """textProcessingTaskList: GET /ocs/v2.php/textprocessing/tasks/app/{appId}; reads ocs.data.tasks."""
    task = text_task(user)
    response = client.get(
        "/ocs/v2.php/textprocessing/tasks/app/assistant", CONTENT_TYPE="application/x-www-form-urlencoded", **ios
    )
    body = response.json()
    assert body["ocs"]["meta"]["statuscode"] == 200
    [listed] = body["ocs"]["data"]["tasks"]
    assert_ios_task(listed)
    assert listed["id"] == task.pk


def test_ios_error_answers_carry_the_status_and_a_message(client, ios):
    """NKError(rootJson:) reads ocs.meta.statuscode and ocs.meta.message of a failed call."""
    response = client.get("/ocs/v2.php/textprocessing/task/424242", **ios)
    assert response.status_code == 404
    assert response.json()["ocs"]["meta"] == {"status": "failure", "statuscode": 404, "message": "Task not found"}


# --- Dart nextcloud package (neon) --------------------------------------------------------------------


def test_dart_text_to_image_is_available(client, dart, ocs_model):
    """textToImageApi.isAvailable: GET /ocs/v2.php/text2image/is_available."""
    response = client.get("/ocs/v2.php/text2image/is_available", **dart)
    assert response.status_code == 200
    assert response.json()["ocs"]["data"] == {"isAvailable": True}


def test_dart_text_to_image_schedule(client, dart, ocs_model, user):
    """textToImageApi.schedule: POST /ocs/v2.php/text2image/schedule with the JSON body
    ``TextToImageApiScheduleRequestApplicationJson`` (input, appId, identifier, numberOfImages)."""
    body = {"input": "a red fox", "appId": "neon", "identifier": "", "numberOfImages": 2}
    response = client.post("/ocs/v2.php/text2image/schedule", body, format="json", **dart)
    assert response.status_code == 200
    task = response.json()["ocs"]["data"]["task"]
    assert (task["status"], task["numberOfImages"], task["userId"], task["appId"]) == (3, 2, user.username, "neon")
    assert isinstance(task["completionExpectedAt"], int)


def schedule_image(client, dart, count=1):
    body = {"input": "a red fox", "appId": "neon", "identifier": "x", "numberOfImages": count}
    return client.post("/ocs/v2.php/text2image/schedule", body, format="json", **dart).json()["ocs"]["data"]["task"]


def test_dart_text_to_image_get_task(client, dart, ocs_model):
    """textToImageApi.getTask: GET /ocs/v2.php/text2image/task/{id}."""
    task = schedule_image(client, dart)
    response = client.get(f"/ocs/v2.php/text2image/task/{task['id']}", **dart)
    assert response.status_code == 200
    assert response.json()["ocs"]["data"] == {"task": task}


def test_dart_text_to_image_get_image(client, dart, ocs_model):
    """textToImageApi.getImage: GET /ocs/v2.php/text2image/task/{id}/image/{index}, Accept */*:
    the body is the image (Uint8List)."""
    task = schedule_image(client, dart)
    headers = {**dart, "HTTP_ACCEPT": "*/*"}
    response = client.get(f"/ocs/v2.php/text2image/task/{task['id']}/image/0", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/png", "image/webp", "image/jpeg")
    assert len(response.content) > 100


def test_dart_text_to_image_delete_task(client, dart, ocs_model):
    """textToImageApi.deleteTask: DELETE /ocs/v2.php/text2image/task/{id}."""
    task = schedule_image(client, dart)
    response = client.delete(f"/ocs/v2.php/text2image/task/{task['id']}", **dart)
    assert response.status_code == 200
    assert response.json()["ocs"]["data"]["task"]["id"] == task["id"]
    assert not Text2ImageTask.objects.exists()


def test_dart_text_to_image_list_tasks_by_app(client, dart, ocs_model):
    """textToImageApi.listTasksByApp: GET /ocs/v2.php/text2image/tasks/app/{appId}{?identifier*}."""
    task = schedule_image(client, dart)
    response = client.get("/ocs/v2.php/text2image/tasks/app/neon?identifier=x", **dart)
    assert response.status_code == 200
    assert response.json()["ocs"]["data"] == {"tasks": [task]}
    without = client.get("/ocs/v2.php/text2image/tasks/app/neon", **dart)
    assert without.json()["ocs"]["data"] == {"tasks": [task]}


def test_dart_text_processing_task_types(client, dart):
    """textProcessingApi.taskTypes: GET /ocs/v2.php/textprocessing/tasktypes."""
    response = client.get("/ocs/v2.php/textprocessing/tasktypes", **dart)
    assert response.status_code == 200
    assert len(response.json()["ocs"]["data"]["types"]) == 3


def test_dart_text_processing_schedule(client, dart, user):
    """textProcessingApi.schedule: POST /ocs/v2.php/textprocessing/schedule, JSON body
    (input, type, appId, identifier)."""
    body = {"input": ARTICLE, "type": SUMMARY, "appId": "neon", "identifier": ""}
    response = client.post("/ocs/v2.php/textprocessing/schedule", body, format="json", **dart)
    assert response.status_code == 200
    task = response.json()["ocs"]["data"]["task"]
    assert (task["type"], task["status"], task["userId"]) == (SUMMARY, 3, user.username)
    assert isinstance(task["output"], str)


def test_dart_text_processing_get_task(client, dart, user):
    """textProcessingApi.getTask: GET /ocs/v2.php/textprocessing/task/{id}."""
    task = text_task(user)
    response = client.get(f"/ocs/v2.php/textprocessing/task/{task.pk}", **dart)
    assert response.status_code == 200
    assert response.json()["ocs"]["data"]["task"]["output"] == task.output


def test_dart_text_processing_delete_task(client, dart, user):
    """textProcessingApi.deleteTask: DELETE /ocs/v2.php/textprocessing/task/{id}."""
    task = text_task(user)
    response = client.delete(f"/ocs/v2.php/textprocessing/task/{task.pk}", **dart)
    assert response.status_code == 200
    assert not TextProcessingTask.objects.exists()


def test_dart_text_processing_list_tasks_by_app(client, dart, user):
    """textProcessingApi.listTasksByApp: GET /ocs/v2.php/textprocessing/tasks/app/{appId}{?identifier*}."""
    task = text_task(user, app_id="neon")
    response = client.get("/ocs/v2.php/textprocessing/tasks/app/neon?identifier=", **dart)
    assert response.status_code == 200
    assert [t["id"] for t in response.json()["ocs"]["data"]["tasks"]] == [task.pk]
