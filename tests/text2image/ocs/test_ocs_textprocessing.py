"""OCS textprocessing API through HTTP: task types, schedule, fetch (GET and POST), delete and list by
app, in JSON and XML, v1 and v2, with the built-in provider (Summary, Headline, Topics) and with a
language model (a fake OpenAI-compatible server)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.text2image.models import OcsTaskStatus, TextProcessingTask
from tests.text2image.ocs.support import (
    ARTICLE,
    FREE_PROMPT,
    HEADLINE,
    OCS_HEADER,
    SUMMARY,
    TEXT_TASK_KEYS,
    TOPICS,
    basic_for,
    ocs_json,
    ocs_xml,
    url,
    v1_meta,
    v2_meta,
    xml_value,
)

pytestmark = pytest.mark.django_db

BUILT_IN_TYPES = [
    {
        "id": SUMMARY,
        "name": "Summarize",
        "description": "Summarizes text by reducing its length without losing key information.",
    },
    {"id": HEADLINE, "name": "Generate headline", "description": "Generates a possible headline for a text."},
    {
        "id": TOPICS,
        "name": "Extract topics",
        "description": "Extracts topics from a text and outputs them separated by commas.",
    },
]
FREE_PROMPT_TYPE = {
    "id": FREE_PROMPT,
    "name": "Free prompt",
    "description": "Runs an arbitrary prompt through the language model.",
}


def schedule(client, who, *, version=2, fmt="json", **values):
    payload = {"input": ARTICLE, "type": SUMMARY, "appId": "assistant", "identifier": "", **values}
    return client.post(
        url(version, f"textprocessing/schedule?format={fmt}"), payload, format="json", **OCS_HEADER, **who
    )


# --- task types ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [1, 2])
def test_task_types_without_a_language_model_are_the_built_in_ones_json(client, version):
    response = client.get(url(version, "textprocessing/tasktypes"), {"format": "json"}, **OCS_HEADER)
    assert response.status_code == 200
    ocs = ocs_json(response)
    assert ocs["meta"] == (v2_meta(200) if version == 2 else v1_meta(100))
    assert ocs["data"] == {"types": BUILT_IN_TYPES}


@pytest.mark.parametrize("version", [1, 2])
def test_task_types_in_xml(client, version):
    response = client.get(url(version, "textprocessing/tasktypes"), **OCS_HEADER)
    assert response.status_code == 200
    meta, data = ocs_xml(response)
    assert meta[:3] == [("status", "ok"), ("statuscode", "200" if version == 2 else "100"), ("message", "OK")]
    assert [child.tag for child in data] == ["types"]
    assert [[field.tag for field in element] for element in data.find("types")] == [["id", "name", "description"]] * 3
    assert xml_value(data) == {"types": BUILT_IN_TYPES}


def test_a_language_model_adds_free_prompt_in_nextclouds_order(client, language_model):
    response = client.get(url(2, "textprocessing/tasktypes"), {"format": "json"}, **OCS_HEADER)
    assert ocs_json(response)["data"]["types"] == [FREE_PROMPT_TYPE, *BUILT_IN_TYPES]
    assert language_model.requests == []  # listing asks the model nothing


def test_no_provider_at_all_lists_no_type(client, settings):
    settings.OCS_TEXT_EMBEDDED_ENABLED = False
    response = client.get(url(2, "textprocessing/tasktypes"), {"format": "json"}, **OCS_HEADER)
    assert ocs_json(response)["data"] == {"types": []}
    _, data = ocs_xml(client.get(url(2, "textprocessing/tasktypes"), **OCS_HEADER))
    assert xml_value(data) == {"types": None}  # an empty list is an empty element


# --- schedule (the built-in provider runs inline) -------------------------------------------------


@pytest.mark.parametrize("version", [1, 2])
def test_schedule_a_summary_runs_inline_and_answers_the_finished_task(client, user, version):
    response = schedule(client, basic_for(user), version=version, identifier="doc-1")
    assert response.status_code == 200
    ocs = ocs_json(response)
    assert ocs["meta"] == (v2_meta(200) if version == 2 else v1_meta(100))
    task = ocs["data"]["task"]
    assert list(task) == TEXT_TASK_KEYS
    stored = TextProcessingTask.objects.get()
    assert task == {
        "id": stored.pk,
        "type": SUMMARY,
        "status": 3,
        "userId": user.username,
        "appId": "assistant",
        "input": ARTICLE,
        "output": stored.output,
        "identifier": "doc-1",
        "completionExpectedAt": int(stored.completion_expected_at.timestamp()),
    }
    assert isinstance(task["id"], int) and isinstance(task["completionExpectedAt"], int)
    # An extractive summary: whole sentences of the text, fewer of them, in their order.
    sentences = [s.strip() + "." for s in ARTICLE.split(".") if s.strip()]
    chosen = [s for s in sentences if s in task["output"]]
    assert 1 <= len(chosen) < len(sentences)
    assert task["output"] == " ".join(chosen)
    assert stored.provider == "embedded" and stored.status == OcsTaskStatus.SUCCESSFUL


def test_schedule_in_xml_renders_the_task_elements_in_nextclouds_order(client, user):
    response = schedule(client, basic_for(user), fmt="xml", type=TOPICS)
    assert response.status_code == 200
    meta, data = ocs_xml(response)
    assert meta == [("status", "ok"), ("statuscode", "200"), ("message", "OK")]
    task = data.find("task")
    assert [child.tag for child in task] == TEXT_TASK_KEYS
    values = xml_value(data)["task"]
    stored = TextProcessingTask.objects.get()
    assert values == {
        "id": str(stored.pk),
        "type": TOPICS,
        "status": "3",
        "userId": user.username,
        "appId": "assistant",
        "input": ARTICLE,
        "output": stored.output,
        "identifier": None,  # '' is an empty element
        "completionExpectedAt": str(int(stored.completion_expected_at.timestamp())),
    }
    topics = stored.output.split(", ")
    assert 1 <= len(topics) <= 5
    assert any("librar" in topic.lower() for topic in topics)


def test_headline_is_short_and_taken_from_the_text(client, user):
    task = ocs_json(schedule(client, basic_for(user), type=HEADLINE))["data"]["task"]
    assert task["status"] == 3
    headline = task["output"]
    assert 2 <= len(headline.split()) <= 13
    assert headline.rstrip("\u2026") in ARTICLE
    assert not headline.endswith(".")


@pytest.mark.parametrize(
    "how",
    [
        "json",
        "form",
        "query",
    ],
)
def test_parameters_come_from_a_json_body_a_form_or_the_query_string(client, user, how):
    values = {"input": ARTICLE, "type": TOPICS, "appId": "notes", "identifier": "n-7"}
    path = url(2, "textprocessing/schedule")
    if how == "json":
        response = client.post(f"{path}?format=json", values, format="json", **OCS_HEADER, **basic_for(user))
    elif how == "form":
        response = client.post(f"{path}?format=json", values, **OCS_HEADER, **basic_for(user))
    else:
        from urllib.parse import urlencode

        response = client.post(f"{path}?{urlencode({**values, 'format': 'json'})}", **OCS_HEADER, **basic_for(user))
    assert response.status_code == 200, response.content
    task = ocs_json(response)["data"]["task"]
    assert (task["type"], task["appId"], task["identifier"], task["status"]) == (TOPICS, "notes", "n-7", 3)


def test_the_body_wins_over_the_query_string(client, user):
    path = url(2, "textprocessing/schedule?format=json&appId=from-query&identifier=q")
    body = {"input": ARTICLE, "type": TOPICS, "appId": "from-body"}
    task = ocs_json(client.post(path, body, format="json", **OCS_HEADER, **basic_for(user)))["data"]["task"]
    assert (task["appId"], task["identifier"]) == ("from-body", "q")


@pytest.mark.parametrize("version", [1, 2])
def test_an_unknown_type_is_400_requested_task_type_does_not_exist(client, user, version):
    response = schedule(client, basic_for(user), version=version, type="OCP\\TextProcessing\\PoemTaskType")
    assert response.status_code == (400 if version == 2 else 200)
    ocs = ocs_json(response)
    message = "Requested task type does not exist"
    assert ocs["meta"] == (v2_meta(400, message) if version == 2 else v1_meta(400, message))
    assert ocs["data"] == {"message": message}
    assert not TextProcessingTask.objects.exists()


def test_free_prompt_without_a_language_model_is_412(client, user):
    response = schedule(client, basic_for(user), type=FREE_PROMPT, input="Write a haiku about foxes.")
    assert response.status_code == 412
    message = "Necessary language model provider is not available"
    assert ocs_json(response) == {"meta": v2_meta(412, message), "data": {"message": message}}
    meta, data = ocs_xml(schedule(client, basic_for(user), fmt="xml", type=FREE_PROMPT))
    assert meta == [("status", "failure"), ("statuscode", "412"), ("message", message)]
    assert xml_value(data) == {"message": message}
    assert not TextProcessingTask.objects.exists()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"input": None}, "input: This field may not be null."),
        ({"appId": ""}, "appId: This field may not be blank."),
        ({"identifier": "x" * 256}, "identifier: Ensure this field has no more than 255 characters."),
    ],
)
def test_bad_parameters_are_400_with_a_message(client, user, values, message):
    response = schedule(client, basic_for(user), **values)
    assert response.status_code == 400
    assert ocs_json(response) == {"meta": v2_meta(400, message), "data": {"message": message}}


def test_missing_parameters_are_named(client, user):
    response = client.post(
        url(2, "textprocessing/schedule?format=json"), {}, format="json", **OCS_HEADER, **basic_for(user)
    )
    assert response.status_code == 400
    assert ocs_json(response)["meta"]["message"] == (
        "input: This field is required.; type: This field is required.; appId: This field is required."
    )


def test_too_long_input_is_400(client, user, settings):
    settings.OCS_MAX_INPUT_CHARS = 100
    response = schedule(client, basic_for(user), input="word " * 30)
    assert response.status_code == 400
    assert ocs_json(response)["data"]["message"] == "input: The input is 150 characters long; at most 100 are accepted."


def test_a_text_without_words_fails_the_task_with_a_message(client, user):
    task = ocs_json(schedule(client, basic_for(user), type=TOPICS, input="!!! ???"))["data"]["task"]
    assert (task["status"], task["output"]) == (4, None)
    assert TextProcessingTask.objects.get().error_message == "The text is too short to extract topics from."


# --- fetch, delete, list ---------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["get", "post"])
@pytest.mark.parametrize("version", [1, 2])
def test_fetch_a_task_with_get_or_post(client, user, verb, version):
    created = ocs_json(schedule(client, basic_for(user)))["data"]["task"]
    response = getattr(client, verb)(
        url(version, f"textprocessing/task/{created['id']}?format=json"), **OCS_HEADER, **basic_for(user)
    )
    assert response.status_code == 200
    ocs = ocs_json(response)
    assert ocs["meta"] == (v2_meta(200) if version == 2 else v1_meta(100))
    assert ocs["data"] == {"task": created}


def test_fetch_in_xml(client, user):
    created = ocs_json(schedule(client, basic_for(user)))["data"]["task"]
    meta, data = ocs_xml(client.get(url(2, f"textprocessing/task/{created['id']}"), **OCS_HEADER, **basic_for(user)))
    assert meta == [("status", "ok"), ("statuscode", "200"), ("message", "OK")]
    assert xml_value(data)["task"]["output"] == created["output"]


@pytest.mark.parametrize("version", [1, 2])
def test_someone_elses_or_a_missing_task_is_404_task_not_found(client, user, other_user, version):
    theirs = ocs_json(schedule(client, basic_for(other_user)))["data"]["task"]
    for task_id in (theirs["id"], theirs["id"] + 1000, 2**70):
        response = client.get(
            url(version, f"textprocessing/task/{task_id}?format=json"), **OCS_HEADER, **basic_for(user)
        )
        assert response.status_code == (404 if version == 2 else 200)
        ocs = ocs_json(response)
        assert ocs["meta"] == (v2_meta(404, "Task not found") if version == 2 else v1_meta(998, "Task not found"))
        assert ocs["data"] == {"message": "Task not found"}


@pytest.mark.parametrize("version", [1, 2])
def test_delete_answers_the_task_and_removes_it(client, user, other_user, version):
    mine = ocs_json(schedule(client, basic_for(user)))["data"]["task"]
    theirs = ocs_json(schedule(client, basic_for(other_user)))["data"]["task"]
    response = client.delete(
        url(version, f"textprocessing/task/{mine['id']}?format=json"), **OCS_HEADER, **basic_for(user)
    )
    assert response.status_code == 200
    assert ocs_json(response)["data"] == {"task": mine}
    assert not TextProcessingTask.objects.filter(pk=mine["id"]).exists()
    again = client.delete(url(2, f"textprocessing/task/{mine['id']}?format=json"), **OCS_HEADER, **basic_for(user))
    assert again.status_code == 404
    refused = client.delete(url(2, f"textprocessing/task/{theirs['id']}?format=json"), **OCS_HEADER, **basic_for(user))
    assert refused.status_code == 404
    assert TextProcessingTask.objects.filter(pk=theirs["id"]).exists()


@pytest.mark.parametrize("version", [1, 2])
def test_list_by_app_and_identifier(client, user, other_user, version):
    first = ocs_json(schedule(client, basic_for(user), appId="notes", identifier="a"))["data"]["task"]
    second = ocs_json(schedule(client, basic_for(user), appId="notes", identifier="b", type=TOPICS))["data"]["task"]
    ocs_json(schedule(client, basic_for(user), appId="mail"))
    ocs_json(schedule(client, basic_for(other_user), appId="notes", identifier="a"))

    def listed(query=""):
        response = client.get(
            url(version, f"textprocessing/tasks/app/notes?format=json{query}"), **OCS_HEADER, **basic_for(user)
        )
        assert response.status_code == 200
        return ocs_json(response)["data"]

    assert listed() == {"tasks": [first, second]}
    assert listed("&identifier=b") == {"tasks": [second]}
    assert listed("&identifier=") == {"tasks": []}
    response = client.get(url(version, "textprocessing/tasks/app/other"), **OCS_HEADER, **basic_for(user))
    _, data = ocs_xml(response)
    assert xml_value(data) == {"tasks": None}


def test_list_in_xml_has_element_entries(client, user):
    ocs_json(schedule(client, basic_for(user), appId="notes"))
    ocs_json(schedule(client, basic_for(user), appId="notes", type=TOPICS))
    _, data = ocs_xml(client.get(url(2, "textprocessing/tasks/app/notes"), **OCS_HEADER, **basic_for(user)))
    tasks = data.find("tasks")
    assert [child.tag for child in tasks] == ["element", "element"]
    assert [[field.tag for field in element] for element in tasks] == [TEXT_TASK_KEYS] * 2


def test_list_by_app_queries_do_not_grow_with_the_tasks(client, user):
    def count_queries(n):
        TextProcessingTask.objects.all().delete()
        for _ in range(n):
            ocs_json(schedule(client, basic_for(user), appId="bulk", type=TOPICS))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url(2, "textprocessing/tasks/app/bulk?format=json"), **OCS_HEADER, **basic_for(user))
        assert len(ocs_json(response)["data"]["tasks"]) == n
        return len(captured)

    assert count_queries(1) == count_queries(6)


def test_text_processing_textprocessing_delete_on_the_list_route_is_405(client, user):
    response = client.delete(url(2, "textprocessing/tasks/app/notes?format=json"), **OCS_HEADER, **basic_for(user))
    assert response.status_code == 405
    assert ocs_json(response)["data"] == {"message": 'Method "DELETE" not allowed.'}


# --- with a language model ------------------------------------------------------------------------


def test_free_prompt_through_the_language_model(client, user, language_model, settings):
    settings.OCS_TEXT_OPENAI_EXPECTED_SECONDS = 5.0  # fits the inline budget: answered at once
    response = schedule(client, basic_for(user), type=FREE_PROMPT, input="Write a haiku about foxes.")
    task = ocs_json(response)["data"]["task"]
    assert (task["status"], task["output"]) == (3, "echo: Write a haiku about foxes.")
    [call] = language_model.requests
    assert call["path"] == "/v1/chat/completions"
    assert call["headers"]["Authorization"] == "Bearer sk-test"
    assert call["body"] == {
        "model": "fake-model",
        "messages": [{"role": "user", "content": "Write a haiku about foxes."}],
    }


def test_the_language_model_is_preferred_for_summaries(client, user, language_model, settings):
    settings.OCS_TEXT_OPENAI_EXPECTED_SECONDS = 5.0
    language_model.reply = lambda body: (200, {"choices": [{"message": {"content": "  Libraries get more money.  "}}]})
    task = ocs_json(schedule(client, basic_for(user), type=SUMMARY))["data"]["task"]
    assert task["output"] == "Libraries get more money."
    [call] = language_model.requests
    assert call["body"]["messages"][0]["role"] == "system"
    assert "Summarize" in call["body"]["messages"][0]["content"]
    assert call["body"]["messages"][1] == {"role": "user", "content": ARTICLE}
    assert TextProcessingTask.objects.get().provider == "openai"


def test_a_slow_language_model_is_scheduled_on_celery(
    client, user, language_model, settings, django_capture_on_commit_callbacks
):
    """Expected 30 s > 80 % of the 30 s budget: the task is answered as scheduled (status 1) and a
    Celery task runs it (eagerly here; tests/text2image/ocs/test_ocs_worker.py uses a real worker)."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        task = ocs_json(schedule(client, basic_for(user), type=HEADLINE))["data"]["task"]
    assert (task["status"], task["output"]) == (1, None)
    assert language_model.requests == []
    assert len(callbacks) == 1
    callbacks[0]()  # what the commit does: send the Celery task (eager in the test settings)
    fetched = ocs_json(
        client.get(url(2, f"textprocessing/task/{task['id']}?format=json"), **OCS_HEADER, **basic_for(user))
    )
    assert fetched["data"]["task"]["status"] == 3
    assert fetched["data"]["task"]["output"].startswith("echo: ")


def test_a_language_model_error_fails_the_task_with_its_message(client, user, language_model, settings):
    settings.OCS_TEXT_OPENAI_EXPECTED_SECONDS = 5.0
    language_model.reply = lambda body: (400, {"error": {"message": "The model does not exist."}})
    task = ocs_json(schedule(client, basic_for(user), type=FREE_PROMPT, input="hi"))["data"]["task"]
    assert task["status"] == 4
    assert TextProcessingTask.objects.get().error_message == (
        "The language model server answered HTTP 400: The model does not exist."
    )


def test_a_nul_character_in_the_app_id_finds_nothing(client, user):
    ocs_json(schedule(client, basic_for(user), appId="notes"))
    response = client.get(url(2, "textprocessing/tasks/app/no%00tes?format=json"), **OCS_HEADER, **basic_for(user))
    assert response.status_code == 200
    assert ocs_json(response)["data"] == {"tasks": []}
    bad = client.get(
        url(2, "textprocessing/tasks/app/notes?format=json&identifier=a%00"), **OCS_HEADER, **basic_for(user)
    )
    assert bad.status_code == 400
    assert ocs_json(bad)["data"] == {"message": "identifier: Null characters are not allowed."}


@pytest.mark.parametrize("version", [1, 2])
def test_delete_in_xml(client, user, version):
    created = ocs_json(schedule(client, basic_for(user), type=TOPICS))["data"]["task"]
    response = client.delete(url(version, f"textprocessing/task/{created['id']}"), **OCS_HEADER, **basic_for(user))
    assert response.status_code == 200
    meta, data = ocs_xml(response)
    assert meta[:3] == [("status", "ok"), ("statuscode", "200" if version == 2 else "100"), ("message", "OK")]
    assert [child.tag for child in data.find("task")] == TEXT_TASK_KEYS
    assert xml_value(data)["task"]["output"] == created["output"]
