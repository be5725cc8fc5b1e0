"""/2/enqueueWorkflow and /2/getWorkflowStatus through HTTP, in the AIMG wire format.

Templates here run on the procedural model ``f222``; ``test_workflow_comfyui.py`` runs them on a
(fake) ComfyUI server.
"""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.folders import services as folders
from apps.items.models import Item
from apps.text2image.models import GenerationJob, WorkflowTemplate
from apps.text2image.services import jobs

from .workflows_support import (
    API2_TIER_MESSAGE,
    NOT_SIGNED_IN,
    api2_user,
    error_of,
    make_group,
    make_template,
    ok,
    parameter,
    session_headers,
)

pytestmark = pytest.mark.django_db

ENQUEUE = "/2/enqueueWorkflow"
STATUS = "/2/getWorkflowStatus"


@pytest.fixture
def user():
    return api2_user(tier=1)


@pytest.fixture
def headers(user):
    return session_headers(user)


@pytest.fixture
def template(f222):
    return make_template("portrait")


def enqueue(client, headers, body, *, run=None):
    """POST enqueueWorkflow; with ``run`` (the on-commit capture fixture) the job also runs."""
    if run is None:
        return client.post(ENQUEUE, body, format="json", **headers)
    with run(execute=True):
        return client.post(ENQUEUE, body, format="json", **headers)


def nothing_created():
    return GenerationJob.objects.count() == 0 and Item.all_objects.count() == 0


# --- enqueueWorkflow ------------------------------------------------------------------------------


def test_enqueue_maps_explicit_fields_and_parameters_and_returns_items_and_workflow(
    api_client, user, headers, template
):
    response = enqueue(
        api_client,
        headers,
        {
            "workflowTemplateName": "portrait",
            "prompt": "a lighthouse at dusk",
            "seed": 1234,
            "cfgscale": 6.5,
            "width": 768,
            "batchSize": 2,
            "parameters": [{"name": "Steps", "value": "30"}, {"name": "model", "value": "juggernautXL_v9.safetensors"}],
        },
    )
    assert response.status_code == 200, response.json()
    payload = response.json()["payload"]
    assert set(payload) == {"itemIds", "workflowId"}
    job = GenerationJob.objects.get()
    assert payload["workflowId"] == str(job.pk)
    items = list(Item.objects.filter(generation_id=str(job.pk)).order_by("created_at"))
    assert payload["itemIds"] == [str(item.pk) for item in items] and len(items) == 2

    run_parameters = [
        {"name": "Positive Prompt", "value": "a lighthouse at dusk"},
        {"name": "Negative Prompt", "value": "ugly"},
        {"name": "Seed", "value": "1234"},
        {"name": "Steps", "value": "30"},
        {"name": "CFG Scale", "value": "6.5"},
        {"name": "Width", "value": "768"},
        {"name": "Height", "value": "512"},
        {"name": "Batch Size", "value": "2"},
        {"name": "Model", "value": "juggernautXL_v9.safetensors"},
    ]
    assert job.kind == "workflow" and job.owner == user and job.model_id == "f222"
    assert job.workflow_template == template
    assert job.workflow_parameters == run_parameters
    assert job.raw_prompt == "a lighthouse at dusk" and job.raw_negative_prompt == "ugly"
    assert job.batch_size == 2
    assert job.info["workflow_values"] == {
        "%prompt%": "a lighthouse at dusk",
        "%negprompt%": "ugly",
        "%seed%": 1234,
        "%steps%": 30,
        "%cfg%": 6.5,
        "%width%": 768,
        "%height%": 512,
        "%batch%": 2,
        "%model%": "juggernautXL_v9.safetensors",
    }
    assert {k: job.parameters[k] for k in ("width", "height", "steps", "cfg_scale", "seed")} == {
        "width": 768,
        "height": 512,
        "steps": 30,
        "cfg_scale": 6.5,
        "seed": 1234,
    }
    for item in items:
        assert item.status == "queued"
        assert item.generator_version == "2"
        assert item.workflow_template_name == "portrait"
        assert item.workflow_run_parameters == run_parameters


def test_a_workflow_runs_and_its_status_and_items_tell_the_run(
    api_client, user, headers, template, django_capture_on_commit_callbacks
):
    response = enqueue(
        api_client,
        headers,
        {"workflowTemplateName": "portrait", "prompt": "a red fox in snow", "seed": 7, "batchSize": 2},
        run=django_capture_on_commit_callbacks,
    )
    assert response.status_code == 200
    workflow_id, item_ids = response.json()["payload"]["workflowId"], response.json()["payload"]["itemIds"]
    job = GenerationJob.objects.get(pk=workflow_id)
    assert job.status == "completed", job.error_message

    state = api_client.get(STATUS, {"workflowId": workflow_id}, **headers).json()["payload"]
    files = state.pop("outputFiles")
    assert state == {
        "_id": workflow_id,
        "publicId": workflow_id,
        "runParamaters": {"publicId": None, "workflowTemplateName": "portrait", "parameters": job.workflow_parameters},
        "isStarted": True,
        "isComplete": True,
        "isError": False,
        "log": job.log,
        "state": "completed",
        "startTime": job.started_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "endTime": job.finished_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "api2userEmail": user.email,
        "itemIds": item_ids,
    }
    assert len(files) == 2
    for entry in files:
        assert set(entry) == {"fileName", "downloadURL", "isMainOutput", "height", "width", "type"}
        assert entry["isMainOutput"] is True
        assert (entry["width"], entry["height"]) == (512, 512)
        assert entry["downloadURL"].startswith("http://testserver/getFile?id=")
        assert api_client.get(entry["downloadURL"]).status_code == 200

    details = api_client.get("/getItemDetails", {"imageID": item_ids[0]}, **headers).json()["payload"]
    assert details["generatorVersion"] == "2"
    assert details["workflowTemplateName"] == "portrait"
    assert details["workflowRunParameters"] == job.workflow_parameters
    assert details["prompt"] == "a red fox in snow"
    assert (details["width"], details["height"], details["seed"]) == (512, 512, 7)


def test_defaults_fill_what_the_run_does_not_give(api_client, headers, template):
    response = enqueue(api_client, headers, {"workflowTemplateName": "portrait", "prompt": "dunes"})
    assert response.status_code == 200
    job = GenerationJob.objects.get()
    assert {p["name"]: p["value"] for p in job.workflow_parameters} == {
        "Positive Prompt": "dunes",
        "Negative Prompt": "ugly",
        "Seed": "42",
        "Steps": "20",
        "CFG Scale": "7",
        "Width": "512",
        "Height": "512",
        "Batch Size": "1",
        "Model": "sd_xl_base_1.0.safetensors",
    }
    assert len(response.json()["payload"]["itemIds"]) == 1


def test_a_seed_of_minus_one_is_drawn_at_random_and_recorded(api_client, headers, template):
    seeds = set()
    for _ in range(3):
        response = enqueue(api_client, headers, {"workflowTemplateName": "portrait", "prompt": "dunes", "seed": -1})
        assert response.status_code == 200
        job = GenerationJob.objects.get(pk=response.json()["payload"]["workflowId"])
        recorded = next(p["value"] for p in job.workflow_parameters if p["name"] == "Seed")
        assert int(recorded) == job.parameters["seed"] == job.info["workflow_values"]["%seed%"]
        assert 0 <= int(recorded) <= 2**32 - 1
        seeds.add(recorded)
        jobs.cancel_job(job=job)
    assert len(seeds) > 1


def test_hidden_parameters_run_with_their_default_and_are_not_shown(api_client, headers, f222):
    make_template(
        "hidden",
        parameters=[
            parameter("Positive Prompt", "%prompt%"),
            parameter("Checkpoint", "%model%", default_value="internal.safetensors", is_hidden=True),
        ],
    )
    response = enqueue(api_client, headers, {"workflowTemplateName": "hidden", "prompt": "a cat"})
    assert response.status_code == 200
    job = GenerationJob.objects.get()
    assert job.workflow_parameters == [{"name": "Positive Prompt", "value": "a cat"}]
    assert job.info["workflow_values"] == {"%prompt%": "a cat", "%model%": "internal.safetensors"}


def test_loras_map_onto_the_numbered_lora_parameters(api_client, headers, f222):
    make_group("loras", ["detail.safetensors", "grain.safetensors"])
    make_template(
        "loras",
        parameters=[
            parameter("Positive Prompt", "%prompt%"),
            parameter("Lora 1", "%l1%", "file", is_optional=True, file_group="loras"),
            parameter("Lora 1 Strength", "%s1%", "number", default_value="1", min="0", max="2"),
            parameter("Lora 2", "%l2%", "file", is_optional=True, file_group="loras"),
            parameter("Lora 2 Strength", "%s2%", "number", default_value="1", min="0", max="2"),
        ],
    )
    response = enqueue(
        api_client,
        headers,
        {
            "workflowTemplateName": "loras",
            "prompt": "a cat",
            "lora": ["grain.safetensors", "detail.safetensors"],
            "lora_strength": [0.4, 1.25],
        },
    )
    assert response.status_code == 200, response.json()
    job = GenerationJob.objects.get()
    assert job.info["workflow_values"] == {
        "%prompt%": "a cat",
        "%l1%": "grain.safetensors",
        "%s1%": 0.4,
        "%l2%": "detail.safetensors",
        "%s2%": 1.25,
    }
    assert job.parameters["loras"] == [
        {"name": "grain.safetensors", "strength": 0.4},
        {"name": "detail.safetensors", "strength": 1.25},
    ]
    item = Item.objects.get(generation_id=str(job.pk))
    assert item.loras == job.parameters["loras"]


def test_the_prompt_policy_filters_the_prompt_that_reaches_the_workflow(api_client, headers, template):
    from apps.text2image.services import policy

    policy.save_rule(
        name="ignore-noise", action="ignore", term_lists=[policy.save_term_list(name="noise", terms=["watermark"])]
    )
    response = enqueue(api_client, headers, {"workflowTemplateName": "portrait", "prompt": "a fox, watermark"})
    assert response.status_code == 200
    job = GenerationJob.objects.get()
    assert job.raw_prompt == "a fox, watermark"
    assert job.prompt == "a fox"
    assert job.info["workflow_values"]["%prompt%"] == "a fox"
    assert job.workflow_parameters[0] == {"name": "Positive Prompt", "value": "a fox"}


def test_a_blocked_prompt_is_refused_and_nothing_is_created(api_client, headers, template):
    from apps.text2image.services import policy

    policy.save_rule(
        name="no-gore",
        action="block",
        term_lists=[policy.save_term_list(name="gore", terms=["gore"])],
        message="No gore here.",
    )
    response = enqueue(api_client, headers, {"workflowTemplateName": "portrait", "prompt": "gore everywhere"})
    assert response.status_code == 400
    assert error_of(response) == "prompt: No gore here."
    assert nothing_created()


def test_a_blocked_text_in_another_string_parameter_is_refused_too(api_client, headers, f222):
    from apps.text2image.services import policy

    policy.save_rule(
        name="no-gore",
        action="block",
        term_lists=[policy.save_term_list(name="gore", terms=["gore"])],
        message="No gore here.",
    )
    make_template(
        "styled",
        parameters=[parameter("Positive Prompt", "%prompt%"), parameter("Style", "%style%", is_optional=True)],
    )
    body = {"workflowTemplateName": "styled", "prompt": "a cat", "parameters": [{"name": "Style", "value": "gore"}]}
    response = enqueue(api_client, headers, body)
    assert response.status_code == 400
    assert error_of(response) == "Style: No gore here."
    assert nothing_created()


def test_items_go_to_the_named_folder(api_client, user, headers, template, django_capture_on_commit_callbacks):
    folder = folders.create_folder(owner=user, name="Portraits", is_public=False)
    response = enqueue(
        api_client,
        headers,
        {"workflowTemplateName": "portrait", "prompt": "a fox", "folderID": str(folder.pk)},
        run=django_capture_on_commit_callbacks,
    )
    assert response.status_code == 200
    item = Item.objects.get(pk=response.json()["payload"]["itemIds"][0])
    assert item.folder_id == folder.pk


def test_a_folder_that_is_not_the_users_is_refused(api_client, headers, template):
    stranger = folders.create_folder(owner=api2_user(), name="Theirs", is_public=False)
    response = enqueue(
        api_client, headers, {"workflowTemplateName": "portrait", "prompt": "a fox", "folderID": str(stranger.pk)}
    )
    assert response.status_code == 404
    response = enqueue(api_client, headers, {"workflowTemplateName": "portrait", "prompt": "a fox", "folderID": "x"})
    assert response.status_code == 400
    assert error_of(response).startswith("folderID: ")
    assert nothing_created()


# --- refusals -----------------------------------------------------------------------------------------------


REFUSALS = [
    ({}, "workflowTemplateName: This field is required."),
    ({"prompt": 5}, "prompt: Must be a string."),
    ({"seed": "12"}, "seed: Must be a number."),
    ({"seed": True}, "seed: Must be a number."),
    ({"lora": "a"}, 'lora: Expected a list of items but got type "str".'),
    ({"parameters": [{"name": "Steps", "value": 30}]}, "parameters.0.value: Must be a string."),
    ({"parameters": [{"value": "30"}]}, "parameters.0.name: This field is required."),
    ({"prompt": ""}, "Positive Prompt: This parameter is required: give it in parameters or as prompt."),
    ({"omit_prompt": True}, "Positive Prompt: This parameter is required: give it in parameters or as prompt."),
    ({"steps": 51}, "Steps: Must be at most 50 (allowed: from 1 to 50, in steps of 1) (given as steps)."),
    ({"steps": 0}, "Steps: Must be at least 1 (allowed: from 1 to 50, in steps of 1) (given as steps)."),
    ({"steps": 2.5}, "Steps: Must be 1 plus a multiple of 1 (allowed: from 1 to 50, in steps of 1) (given as steps)."),
    (
        {"parameters": [{"name": "CFG Scale", "value": "6.3"}]},
        "CFG Scale: Must be 1 plus a multiple of 0.5 (allowed: from 1 to 12, in steps of 0.5).",
    ),
    ({"parameters": [{"name": "Steps", "value": "many"}]}, "Steps: Must be a number (got 'many')."),
    ({"parameters": [{"name": "Steps", "value": "NaN"}]}, "Steps: Must be a number (got 'NaN')."),
    (
        {"modelName": "other.ckpt"},
        "Model: Must be one of sd_xl_base_1.0.safetensors, juggernautXL_v9.safetensors (got 'other.ckpt') "
        "(given as modelName).",
    ),
    (
        {"parameters": [{"name": "Denoise", "value": "0.5"}]},
        "parameters[0]: The template portrait has no parameter 'Denoise' (its parameters: Positive Prompt, "
        "Negative Prompt, Seed, Steps, CFG Scale, Width, Height, Batch Size, Model).",
    ),
    (
        {"subseed": 3},
        "subseed: The template portrait has no parameter 'Subseed' (its parameters: Positive Prompt, "
        "Negative Prompt, Seed, Steps, CFG Scale, Width, Height, Batch Size, Model).",
    ),
    (
        {"steps": 20, "parameters": [{"name": "Steps", "value": "30"}]},
        "steps: Steps is given twice with different values (parameters[0]).",
    ),
    (
        {"parameters": [{"name": "Steps", "value": "30"}, {"name": "steps", "value": "30"}]},
        "parameters[1]: Steps is given twice.",
    ),
    (
        {"lora": ["a"], "lora_strength": []},
        "lora_strength: lora_strength must have one strength per lora name (1 names, 0 strengths).",
    ),
    ({"width": 1088}, "Width: Must be at most 1024 (allowed: from 256 to 1024, in steps of 64) (given as width)."),
    (
        {"width": 1024, "height": 1024},
        "Width: 1024x1024 is 1,048,576 pixels; the template's model allows at most 786,432. "
        "Choose a smaller Width or Height.",
    ),
    ({"batchSize": 5}, "Batch Size: Must be at most 4 (allowed: from 1 to 4, in steps of 1) (given as batchSize)."),
    ({"seed": 2**32}, "Seed: Must be at most 4294967295 (allowed: from -1 to 4294967295) (given as seed)."),
    ({"parameters": [{"name": "Seed", "value": "-2"}]}, "Seed: Must be at least -1 (allowed: from -1 to 4294967295)."),
]


@pytest.mark.parametrize(("body", "message"), REFUSALS)
def test_each_bad_value_is_refused_with_a_message_naming_it(api_client, headers, template, body, message):
    request = {"workflowTemplateName": "portrait", "prompt": "a fox", **body}
    if request.pop("omit_prompt", False):
        request.pop("prompt")
    if not body:
        request = {"prompt": "a fox"}
    response = enqueue(api_client, headers, request)
    assert response.status_code == 400, response.json()
    assert error_of(response) == message
    assert nothing_created()


def test_every_data_type_is_checked(api_client, headers, f222):
    make_group("refs", ["a.png", "b.png"])
    make_template(
        "typed",
        parameters=[
            parameter("Positive Prompt", "%p%"),
            parameter("Tiled", "%tiled%", "boolean", is_optional=True),
            parameter("Sizes", "%sizes%", "array", is_optional=True),
            parameter("Extra", "%extra%", "object", is_optional=True),
            parameter("Reference", "%ref%", "file", is_optional=True, file_group="refs"),
            parameter("References", "%refs%", "files", is_optional=True, file_group="refs"),
            parameter("Group", "%group%", "filesGroup", is_optional=True),
        ],
    )

    def refused(name, value):
        body = {"workflowTemplateName": "typed", "prompt": "x", "parameters": [{"name": name, "value": value}]}
        response = enqueue(api_client, headers, body)
        assert response.status_code == 400
        return error_of(response)

    assert refused("Tiled", "yes") == "Tiled: Must be true or false (got 'yes')."
    assert refused("Sizes", "{}") == "Sizes: Must be a JSON array."
    assert refused("Extra", "[1]") == "Extra: Must be a JSON object."
    assert refused("Reference", "c.png") == "Reference: Must be a file of the group refs (got 'c.png')."
    assert refused("References", '["a.png", "z.png"]') == "References: Must be a file of the group refs (got 'z.png')."
    assert refused("References", '["a.png", 3]') == "References: Must be a JSON array of file names."
    assert refused("Group", "nope") == "Group: Must name a file group (got 'nope')."
    assert nothing_created()

    values = [
        {"name": "Tiled", "value": "TRUE"},
        {"name": "Sizes", "value": "[512, 768]"},
        {"name": "Extra", "value": '{"a": 1}'},
        {"name": "Reference", "value": "b.png"},
        {"name": "References", "value": '["b.png", "a.png"]'},
        {"name": "Group", "value": "refs"},
    ]
    response = enqueue(api_client, headers, {"workflowTemplateName": "typed", "prompt": "x", "parameters": values})
    assert response.status_code == 200, response.json()
    job = GenerationJob.objects.get()
    assert job.info["workflow_values"] == {
        "%p%": "x",
        "%tiled%": True,
        "%sizes%": [512, 768],
        "%extra%": {"a": 1},
        "%ref%": "b.png",
        "%refs%": ["b.png", "a.png"],
        "%group%": "refs",
    }
    assert {p["name"]: p["value"] for p in job.workflow_parameters}["Sizes"] == "[512,768]"


def test_a_hidden_parameter_cannot_be_set(api_client, headers, f222):
    make_template(
        "hidden",
        parameters=[parameter("Positive Prompt", "%p%"), parameter("Model", "%m%", default_value="x", is_hidden=True)],
    )
    response = enqueue(api_client, headers, {"workflowTemplateName": "hidden", "prompt": "a", "modelName": "y"})
    assert response.status_code == 400
    assert error_of(response) == "modelName: Model is set by the template and cannot be changed."


@pytest.mark.parametrize(
    "kind", ["unknown", "not deployed here", "pending", "invalid", "deleted", "other organization"]
)
def test_a_template_that_is_not_available_here_is_not_found(api_client, headers, f222, settings, kind):
    from tests.factories import OrganizationFactory

    settings.API2_DEPLOYMENT = "a2prod"
    if kind == "not deployed here":
        make_template("portrait", deployments=("a2stage",))
    elif kind in ("pending", "invalid"):
        make_template("portrait", validation_status=kind)
    elif kind == "deleted":
        make_template("portrait").delete()
    elif kind == "other organization":
        make_template("portrait", organization=OrganizationFactory())
    response = enqueue(api_client, headers, {"workflowTemplateName": "portrait", "prompt": "a fox"})
    assert response.status_code == 404
    assert error_of(response) == "There is no workflow template named 'portrait' available here."
    assert nothing_created()


def test_a_template_whose_model_is_disabled_cannot_run(api_client, headers, models):
    make_template("comfy", model_id="sdxl-comfyui")
    response = enqueue(api_client, headers, {"workflowTemplateName": "comfy", "prompt": "a fox"})
    assert response.status_code == 503
    assert error_of(response) == "The workflow template comfy cannot run now: its model is not available."
    assert nothing_created()


def test_enqueue_needs_a_pro_tier(api_client, template):
    body = {"workflowTemplateName": "portrait", "prompt": "a fox"}
    response = enqueue(api_client, session_headers(api2_user(tier=0)), body)
    assert response.status_code == 403
    assert error_of(response) == API2_TIER_MESSAGE
    response = enqueue(api_client, session_headers(None), body)
    assert response.status_code == 401
    assert error_of(response) == NOT_SIGNED_IN
    assert nothing_created()


def test_the_tier_concurrency_of_the_model_holds(api_client, headers, template):
    body = {"workflowTemplateName": "portrait", "prompt": "a fox", "batchSize": 4}
    assert enqueue(api_client, headers, body).status_code == 200  # tier 1 runs 4 at a time on f222
    response = enqueue(api_client, headers, {**body, "batchSize": 1})
    assert response.status_code == 429
    assert "your tier allows 4 at a time" in error_of(response)
    assert GenerationJob.objects.count() == 1


def test_a_user_with_abuse_level_cannot_enqueue(api_client, user, headers, template):
    from apps.accounts.services import set_abuse_level

    set_abuse_level(user=user, level=1)
    response = enqueue(api_client, headers, {"workflowTemplateName": "portrait", "prompt": "a fox"})
    assert response.status_code == 403
    assert nothing_created()


# --- getWorkflowStatus --------------------------------------------------------------------------------------


def _run(api_client, headers, prompt="a fox"):
    response = enqueue(api_client, headers, {"workflowTemplateName": "portrait", "prompt": prompt})
    assert response.status_code == 200, response.json()
    return response.json()["payload"]


def test_a_queued_workflow_is_running_not_started(api_client, user, headers, template):
    payload = _run(api_client, headers)
    state = api_client.get(STATUS, {"workflowId": payload["workflowId"]}, **headers).json()["payload"]
    assert state["isStarted"] is False and state["isComplete"] is False and state["isError"] is False
    assert state["state"] == "running"
    assert state["startTime"] is None and state["endTime"] is None
    assert state["outputFiles"] == [] and state["log"] == []
    assert "errorMessage" not in state
    assert state["itemIds"] == payload["itemIds"]


def test_a_failed_or_cancelled_workflow_is_an_error_with_its_message(api_client, headers, template):
    failed = _run(api_client, headers)
    jobs._fail(failed["workflowId"], None, "Node 3 (KSampler) failed: out of memory")
    cancelled = _run(api_client, headers)
    jobs.cancel_job(job=GenerationJob.objects.get(pk=cancelled["workflowId"]))

    states = api_client.get(
        STATUS, {"workflowIds": f"{failed['workflowId']},{cancelled['workflowId']}"}, **headers
    ).json()["payload"]
    assert [s["state"] for s in states] == ["error", "error"]
    assert [s["isError"] for s in states] == [True, True]
    assert [s["isComplete"] for s in states] == [True, True]
    assert states[0]["errorMessage"] == "Node 3 (KSampler) failed: out of memory"
    assert states[1]["errorMessage"] == "The generation was cancelled."
    assert states[0]["endTime"] is not None
    assert states[0]["itemIds"] == failed["itemIds"]  # a failed run's placeholders stay its items


def test_workflow_ids_answer_an_array_in_the_order_asked(api_client, headers, template):
    first, second = _run(api_client, headers, "one"), _run(api_client, headers, "two")
    response = api_client.get(STATUS, {"workflowIds": f"{second['workflowId']}, {first['workflowId']}"}, **headers)
    assert response.status_code == 200
    assert [s["_id"] for s in response.json()["payload"]] == [second["workflowId"], first["workflowId"]]
    single = api_client.get(STATUS, {"workflowIds": first["workflowId"]}, **headers).json()["payload"]
    assert isinstance(single, list) and len(single) == 1


def test_status_reads_a_constant_number_of_queries(api_client, headers, template):
    ids = [_run(api_client, headers, f"p{i}")["workflowId"] for i in range(4)]
    api_client.get(STATUS, {"workflowIds": ids[0]}, **headers)
    with CaptureQueriesContext(connection) as one:
        assert len(api_client.get(STATUS, {"workflowIds": ids[0]}, **headers).json()["payload"]) == 1
    with CaptureQueriesContext(connection) as four:
        assert len(api_client.get(STATUS, {"workflowIds": ",".join(ids)}, **headers).json()["payload"]) == 4
    assert len(four.captured_queries) == len(one.captured_queries)


def test_status_of_another_users_or_an_unknown_workflow_is_not_found(api_client, headers, template):
    other = _run(api_client, session_headers(api2_user()))
    unknown = str(uuid.uuid4())
    for query in ({"workflowId": other["workflowId"]}, {"workflowIds": unknown}):
        response = api_client.get(STATUS, query, **headers)
        assert response.status_code == 404
    assert error_of(response) == f"There is no workflow with the id {unknown}."


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "workflowId: Give workflowId or workflowIds."),
        ({"workflowId": "abc"}, "workflowId: Every workflow id must be a valid UUID."),
        ({"workflowIds": f"{uuid.uuid4()},abc"}, "workflowIds: Every workflow id must be a valid UUID."),
        (
            {"workflowIds": ",".join(str(uuid.uuid4()) for _ in range(101))},
            "workflowIds: Ask for at most 100 workflows at once.",
        ),
    ],
)
def test_status_refuses_bad_ids(api_client, headers, query, message):
    response = api_client.get(STATUS, query, **headers)
    assert response.status_code == 400
    assert error_of(response) == message


def test_status_needs_a_pro_tier(api_client):
    response = api_client.get(STATUS, {"workflowId": str(uuid.uuid4())}, **session_headers(api2_user(tier=0)))
    assert response.status_code == 403
    assert error_of(response) == API2_TIER_MESSAGE


def test_templates_keep_their_runs_when_deleted(api_client, headers, template):
    payload = _run(api_client, headers)
    template.delete()
    assert WorkflowTemplate.objects.count() == 0
    state = api_client.get(STATUS, {"workflowId": payload["workflowId"]}, **headers).json()["payload"]
    assert state["runParamaters"]["workflowTemplateName"] == "portrait"


def test_the_enqueue_response_is_the_documented_envelope(api_client, headers, template):
    response = enqueue(api_client, headers, {"workflowTemplateName": "portrait", "prompt": "a fox"})
    job = GenerationJob.objects.get()
    item = Item.objects.get()
    assert response.json() == ok({"itemIds": [str(item.pk)], "workflowId": str(job.pk)})
