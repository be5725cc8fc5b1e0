"""The model catalogue and its endpoints: getModels, getQueuesLength, getSamplePrompts; the
``load_models`` command and demo data; the back office of models, jobs and sample prompts."""

import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.text2image.models import GenerationJob, GenerationModel, SamplePrompt
from apps.text2image.services import catalogue, jobs
from tests.factories import StaffFactory, UserFactory

from .engine_support import NOT_SIGNED_IN, as_session, ok, schedule, session_for, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def headers():
    return as_session(session_for())


F222 = {
    "modelID": "f222",
    "name": "F222",
    "description": "The built-in procedural image model: abstract compositions drawn from the words of the prompt. "
    "Needs no GPU.",
    "mediaType": "StaticImage",
    "minTier": 0,
    "tier0Concurrent": 2,
    "tier1Concurrent": 4,
    "tier2Concurrent": 8,
    "positiveTokens": [],
    "negativeTokens": [],
    "sampleImages": [],
    "minSteps": 1,
    "maxSteps": 50,
    "allowedWidths": [512, 768, 1024],
    "allowedHeights": [512, 768, 1024],
    "maxResolution": 786432,
    "defaultResolution": [512, 512],
    "allowedSamplers": ["DPM++ 2M Karras", "DPM++ SDE Karras", "Euler a", "Euler", "DDIM"],
    "defaultSampler": "DPM++ 2M Karras",
    "minCfgScale": 1,
    "maxCfgScale": 12,
    "supportsVariations": True,
    "registrationWall": False,
    "defaultFaceFix": False,
}


# --- getModels -----------------------------------------------------------------------------------------


def test_get_models_lists_the_enabled_models_in_their_order(client, headers, models):
    response = client.get("/getModels", **headers)
    assert response.status_code == 200
    payload = response.json()["payload"]
    assert [model["modelID"] for model in payload] == ["f222", "model3"]  # the others are disabled
    assert payload[0] == F222
    assert payload[1]["mediaType"] == "Video" and payload[1]["registrationWall"] is True

    GenerationModel.objects.filter(model_id="model3").update(position=1)
    assert [m["modelID"] for m in client.get("/getModels", **headers).json()["payload"]] == ["model3", "f222"]


def test_get_models_filters_by_model_ids_and_shows_optional_fields(client, headers, models):
    GenerationModel.objects.filter(model_id="f222").update(
        wiki_url="https://wiki.example.com/f222", sample_images=[{"imageID": "i1", "url": "https://cdn/x.png"}]
    )
    payload = client.get("/getModels", {"modelIDs": "f222, nope,sd15-a1111"}, **headers).json()["payload"]
    assert [model["modelID"] for model in payload] == ["f222"]
    assert payload[0]["wikiURL"] == "https://wiki.example.com/f222"
    assert payload[0]["sampleImages"] == [{"imageID": "i1", "url": "https://cdn/x.png"}]
    assert client.get("/getModels", {"modelIDs": ""}, **headers).json() == ok([])


def test_get_models_needs_a_session(client, models):
    response = client.get("/getModels")
    assert response.status_code == 401
    assert response.json()["errorMessage"] == NOT_SIGNED_IN


def test_get_models_runs_a_constant_number_of_queries(client, headers, models):
    client.get("/getModels", **headers)  # the site and the session are cached from here on
    with CaptureQueriesContext(connection) as few:
        client.get("/getModels", **headers)
    for index in range(10):
        catalogue.load_models(entries=[{**F222, "modelID": f"extra{index}", "position": 100 + index}])
    with CaptureQueriesContext(connection) as many:
        payload = client.get("/getModels", **headers).json()["payload"]
    assert len(payload) == 12
    assert len(many.captured_queries) == len(few.captured_queries)


# --- getQueuesLength -----------------------------------------------------------------------------------


def test_get_queues_length_counts_queued_jobs_per_queue(client, headers, f222, model3):
    free, premium = UserFactory(), UserFactory()
    subscribe(premium, 1)
    schedule(f222, owner=free)
    schedule(f222, owner=free)
    schedule(f222, owner=premium)
    running = schedule(model3, owner=premium)
    jobs.run_job(job_id=running.pk)

    response = client.get("/getQueuesLength", **headers)
    assert response.json() == ok(
        [
            {"modelID": "f222", "queueID": "t2i-f222", "queueLength": 2},
            {"modelID": "f222", "queueID": "t2i-f222-p1-", "queueLength": 1},
            {"modelID": "model3", "queueID": "t2i-model3", "queueLength": 0},
            {"modelID": "model3", "queueID": "t2i-model3-p1-", "queueLength": 0},
        ]
    )
    only = client.get("/getQueuesLength", {"modelIDs": "model3"}, **headers).json()["payload"]
    assert [queue["queueID"] for queue in only] == ["t2i-model3", "t2i-model3-p1-"]


def test_get_queues_length_runs_a_constant_number_of_queries(client, headers, models):
    client.get("/getQueuesLength", **headers)  # the site and the session are cached from here on
    with CaptureQueriesContext(connection) as few:
        client.get("/getQueuesLength", **headers)
    for index in range(6):
        catalogue.load_models(entries=[{**F222, "modelID": f"extra{index}", "position": 100 + index}])
    with CaptureQueriesContext(connection) as many:
        payload = client.get("/getQueuesLength", **headers).json()["payload"]
    assert len(payload) == 16
    assert len(many.captured_queries) == len(few.captured_queries)


def test_too_many_model_ids_are_refused(client, headers, models):
    response = client.get("/getQueuesLength", {"modelIDs": ",".join(f"m{i}" for i in range(101))}, **headers)
    assert response.status_code == 400
    assert response.json()["errorMessage"] == "modelIDs: At most 100 ids may be given."


# --- getSamplePrompts ----------------------------------------------------------------------------------


def test_get_sample_prompts_lists_the_enabled_prompts_in_order(client, headers):
    author = UserFactory()
    catalogue.add_sample_prompt(positive_prompt="a fox", negative_prompt="blurry", position=2)
    catalogue.add_sample_prompt(positive_prompt="a whale", user=author, position=1)
    hidden = catalogue.add_sample_prompt(positive_prompt="hidden", position=0)
    SamplePrompt.objects.filter(pk=hidden.pk).update(enabled=False)
    response = client.get("/getSamplePrompts", **headers)
    assert response.json() == ok(
        [
            {"positivePrompt": "a whale", "userID": str(author.pk)},
            {"positivePrompt": "a fox", "negativePrompt": "blurry"},
        ]
    )


def test_random_one_answers_a_single_prompt(client, headers):
    for index in range(5):
        catalogue.add_sample_prompt(positive_prompt=f"prompt {index}")
    seen = set()
    for _ in range(30):
        payload = client.get("/getSamplePrompts", {"randomOne": "true"}, **headers).json()["payload"]
        assert len(payload) == 1
        seen.add(payload[0]["positivePrompt"])
    assert seen <= {f"prompt {index}" for index in range(5)} and len(seen) > 1
    assert len(client.get("/getSamplePrompts", {"randomOne": "false"}, **headers).json()["payload"]) == 5
    assert client.get("/getSamplePrompts", {"randomOne": "maybe"}, **headers).status_code == 400


def test_random_one_with_no_prompts_is_an_empty_list(client, headers):
    assert client.get("/getSamplePrompts", {"randomOne": "true"}, **headers).json() == ok([])


def test_get_sample_prompts_runs_a_constant_number_of_queries(client, headers):
    catalogue.add_sample_prompt(positive_prompt="one", user=UserFactory())
    client.get("/getSamplePrompts", **headers)  # the site and the session are cached from here on
    with CaptureQueriesContext(connection) as few:
        client.get("/getSamplePrompts", **headers)
    for index in range(10):
        catalogue.add_sample_prompt(positive_prompt=f"more {index}", user=UserFactory())
    with CaptureQueriesContext(connection) as many:
        client.get("/getSamplePrompts", **headers)
    assert len(many.captured_queries) == len(few.captured_queries)


# --- load_models and demo data -------------------------------------------------------------------------


def test_load_models_creates_then_changes_nothing(tmp_path):
    out = io.StringIO()
    call_command("load_models", stdout=out)
    assert "4 created, 0 updated, 0 unchanged." in out.getvalue()
    out = io.StringIO()
    call_command("load_models", stdout=out)
    assert "0 created, 0 updated, 4 unchanged." in out.getvalue()
    shipped = {model.model_id: model for model in GenerationModel.objects.all()}
    assert shipped["f222"].provider == "procedural" and shipped["f222"].enabled
    assert shipped["model3"].media_type == "Video" and shipped["model3"].frame_count == 16
    assert (shipped["sdxl-comfyui"].provider, shipped["sdxl-comfyui"].enabled) == ("comfyui", False)
    assert (shipped["sd15-a1111"].provider, shipped["sd15-a1111"].enabled) == ("a1111", False)

    changed = tmp_path / "models.json"
    changed.write_text(json.dumps([{"modelID": "f222", "name": "F222 renamed", "maxSteps": 40}]))
    out = io.StringIO()
    call_command("load_models", str(changed), stdout=out)
    assert "0 created, 1 updated, 0 unchanged." in out.getvalue()
    assert GenerationModel.objects.get(model_id="f222").max_steps == 40


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"modelID": "x"}, "The models file must hold a JSON list of models."),
        ([{"name": "no id"}], "Entry 0 has no modelID."),
        ([{"modelID": "x", "name": "X", "colour": "red"}], "x: unknown keys colour"),
        ([{"modelID": "x", "name": "X", "minSteps": 30, "maxSteps": 10, "defaultSteps": 20}], "x: "),
        ([{"modelID": "x", "name": "X", "provider": "magic"}], "x: provider"),
        ([{"modelID": "x", "name": "X", "defaultSampler": "LMS"}], "x: default_sampler must be one of"),
        ([{"modelID": "x", "name": "X", "maxCfgScale": 20}], "x: "),
    ],
)
def test_load_models_refuses_bad_entries_and_changes_nothing(tmp_path, entries, message):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(entries))
    with pytest.raises(CommandError) as failure:
        call_command("load_models", str(bad))
    assert str(failure.value).startswith(message)
    assert not GenerationModel.objects.exists()


def test_load_models_refuses_a_missing_or_broken_file(tmp_path):
    with pytest.raises(CommandError, match="There is no file"):
        call_command("load_models", str(tmp_path / "missing.json"))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="is not valid JSON"):
        call_command("load_models", str(broken))


def test_demo_data_is_idempotent():
    from apps.text2image import demo

    first = list(demo.seed())
    second = list(demo.seed())
    assert first[0] == "generation models: 4 created, 0 updated, 0 unchanged"
    assert second[0] == "generation models: 0 created, 0 updated, 4 unchanged"
    assert SamplePrompt.objects.count() == len(demo.SAMPLE_PROMPTS)


# --- the back office -----------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    staff = StaffFactory()
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="text2image"))
    client.force_login(staff)
    return client


def test_the_model_admin_lists_edits_and_checks_models(staff_client, f222):
    page = staff_client.get("/admin/text2image/generationmodel/")
    assert page.status_code == 200 and b"f222" in page.content
    form = staff_client.get(f"/admin/text2image/generationmodel/{f222.pk}/change/")
    assert form.status_code == 200
    data = {
        field: form.context["adminform"].form.initial.get(field)
        for field in form.context["adminform"].form.fields
        if form.context["adminform"].form.initial.get(field) is not None
    }
    for name in ("allowed_widths", "allowed_heights", "default_resolution", "allowed_samplers", "provider_config"):
        data[name] = json.dumps(getattr(f222, name))
    for name in ("positive_tokens", "negative_tokens", "sample_images"):
        data[name] = json.dumps(getattr(f222, name))
    data = {key: value for key, value in data.items() if value is not False}
    data["default_sampler"] = "LMS"
    refused = staff_client.post(f"/admin/text2image/generationmodel/{f222.pk}/change/", data)
    assert refused.status_code == 200
    assert b"default_sampler must be one of allowed_samplers" in refused.content
    data["default_sampler"] = "Euler a"
    accepted = staff_client.post(f"/admin/text2image/generationmodel/{f222.pk}/change/", data)
    assert accepted.status_code == 302
    assert GenerationModel.objects.get(pk=f222.pk).default_sampler == "Euler a"


def test_the_job_admin_cancels_and_retries_through_the_service(staff_client, f222):
    job = schedule(f222, owner=UserFactory())
    assert staff_client.get("/admin/text2image/generationjob/").status_code == 200
    assert staff_client.get(f"/admin/text2image/generationjob/{job.pk}/change/").status_code == 200
    url = "/admin/text2image/generationjob/"
    staff_client.post(url, {"action": "cancel_jobs", "_selected_action": [str(job.pk)]})
    job.refresh_from_db()
    assert job.status == "cancelled"
    staff_client.post(url, {"action": "retry_jobs", "_selected_action": [str(job.pk)]})
    job.refresh_from_db()
    assert job.status == GenerationJob.Status.QUEUED


def test_the_sample_prompt_admin_adds_prompts(staff_client):
    response = staff_client.post(
        "/admin/text2image/sampleprompt/add/",
        {"positive_prompt": "a lighthouse", "negative_prompt": "", "enabled": "on", "position": 0},
    )
    assert response.status_code == 302
    assert SamplePrompt.objects.get().positive_prompt == "a lighthouse"
