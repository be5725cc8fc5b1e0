"""The documented 2xx payloads of AIMG operations match what the endpoints answer.

Each operation is called once through the test client, with data present (lists not empty, the
optional fields of its objects filled where the data allows), and the JSON answer is validated
against the schema the OpenAPI document gives that operation and status. The schemas are strict
(types, formats, required keys, no undocumented keys), so a field of the wrong type, a missing
one or an unknown one fails here before the schema fuzzer finds it.
"""

import json
import uuid
from functools import cached_property, partial

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient

from apps.folders import services as folders
from apps.items.models import Item, Reaction
from apps.tags import services as tags
from apps.text2image.models import GenerationJob, SamplePrompt
from apps.text2image.services import catalogue, jobs
from tests.factories import UserFactory
from tests.items.support import as_admin_key, as_user, file_object, make_folder, make_item, staff_with_role
from tests.text2image.workflows_support import STANDARD_PARAMETERS, make_template, parameter, subscribe

pytestmark = pytest.mark.django_db

OPERATIONS = {
    # items
    "getItem",
    "getItemDetails",
    "getLastCompletedItem",
    "getMyCreations",
    "getPublicCreations",
    "getBatchItems",
    "getSampleItems",
    "getLatestItems",
    "getItems",
    "setItemProperties",
    "likeItems",
    "unlikeItems",
    "dislikeItems",
    "undislikeItems",
    # folders
    "getSelfFolders",
    "getPublicFolders",
    "createSelfFolder",
    "createPublicFolder",
    "setSelfFolderProperties",
    "setPublicFolderProperties",
    # tags
    "getTagsList",
    # generation
    "generateImage",
    "generateVideo",
    "getItemStatus",
    "getModels",
    "getQueuesLength",
    "getSamplePrompts",
    # API2 workflows
    "getAggregatedWorkflowTemplates",
    "getWorkflowStatus",
}


# --- the schema ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def openapi() -> dict:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw))


def _operation(openapi: dict, operation_id: str) -> tuple[str, str, dict]:
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return method, path, operation
    raise AssertionError(f"{operation_id} is not in the schema")


def _json_schema(node, components: dict):
    """The OpenAPI 3.0 schema as JSON Schema: $refs resolved, ``nullable`` turned into ``null`` types."""
    if isinstance(node, list):
        return [_json_schema(value, components) for value in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _json_schema(components[node["$ref"].rsplit("/", 1)[-1]], components)
    schema = {key: _json_schema(value, components) for key, value in node.items()}
    if schema.get("nullable") is True:
        del schema["nullable"]
        if "enum" in schema and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
        if isinstance(schema.get("type"), str):
            schema["type"] = [schema["type"], "null"]
        elif "type" not in schema:
            schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def response_schema(openapi: dict, operation_id: str, status: int = 200) -> dict:
    _, _, operation = _operation(openapi, operation_id)
    media = operation["responses"][str(status)]["content"]["application/json"]
    return _json_schema(media["schema"], openapi["components"]["schemas"])


def problems(openapi: dict, operation_id: str, body, status: int = 200) -> list[str]:
    schema = response_schema(openapi, operation_id, status)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(body)]


# --- the data --------------------------------------------------------------------------------------------


class World:
    """A signed-in user with a library (a private and a public folder, tagged, liked, batched items),
    the shipped model catalogue, sample prompts and API2 workflow templates, built as a test needs."""

    def __init__(self, client: APIClient, capture):
        self.client = client
        self.capture = capture  # runs the on-commit callbacks (the Celery tasks) of a block
        self.catalogue_loaded = False
        self.user = UserFactory(username="ada")
        self.user.profile_picture = b"RIFF\x1a\x00\x00\x00WEBPVP8L"
        self.user.save(update_fields=["profile_picture"])
        self.headers = as_user(self.user)
        self.batch = uuid.uuid4()

    # calls
    def get(self, path: str, query: dict | None = None, headers: dict | None = None):
        return self.client.get(path, query or {}, **(headers or self.headers))

    def post(self, path: str, body: dict, headers: dict | None = None):
        return self.client.post(path, body, format="json", **(headers or self.headers))

    # library
    def item(self, **fields) -> Item:
        """A completed item of the user with every generation field set (a workflows item)."""
        values = {
            "file": file_object(),
            "thumbnail": file_object(),
            "batch_id": self.batch,
            "negative_prompt": "blurry",
            "generator_version": "2",
            "workflow_template_name": "portrait",
            "workflow_run_parameters": [{"name": "Seed", "value": "7"}],
            "model": "f222",
            "model_name": "F222",
            "steps": 20,
            "seed": 7,
            "subseed": 3,
            "subseed_strength": 0.25,
            "cfg_scale": 7.5,
            "sampler": "Euler a",
            "loras": [{"name": "film-grain", "strength": 0.8}],
            "width": 512,
            "height": 512,
            "view_count": 3,
            "like_count": 1,  # the user's like, below
            **fields,
        }
        item = make_item(self.user, **values)
        tags.add_tags(target=item, tags=["sky", "sea"])
        Reaction.objects.create(user=self.user, item=item, kind=Reaction.Kind.LIKE)
        return Item.objects.get(pk=item.pk)

    @cached_property
    def private_folder(self):
        folder = make_folder(self.user, name="Drafts")
        folder.description = "Work in progress"
        folder.save(update_fields=["description"])
        tags.add_tags(target=folder, tags=["wip"])
        return folder

    @cached_property
    def public_folder(self):
        return make_folder(self.user, public=True, name="Showcase")

    @cached_property
    def private_item(self) -> Item:
        item = self.item()
        folders.add_items(folder=self.private_folder, item_ids=[item.pk])
        folders.add_thumbnails(folder=self.private_folder, item_ids=[item.pk])
        return Item.objects.get(pk=item.pk)

    @cached_property
    def public_item(self) -> Item:
        """Public, approved, in the public folder: publicly visible."""
        item = self.item(is_public=True, public_approval_status=Item.ApprovalStatus.APPROVED)
        placed = folders.add_items(folder=self.public_folder, item_ids=[item.pk])
        assert placed.success, placed
        folders.add_thumbnails(folder=self.public_folder, item_ids=[item.pk])
        return Item.objects.get(pk=item.pk)

    def library(self) -> list[Item]:
        return [self.private_item, self.public_item]

    # generation
    def load_catalogue(self) -> None:
        """The shipped catalogue: f222 (images) and model3 (videos), both procedural."""
        if not self.catalogue_loaded:
            catalogue.load_default_models()
            self.catalogue_loaded = True

    def run_queued(self) -> None:
        for job in GenerationJob.objects.filter(status=GenerationJob.Status.QUEUED).order_by("queued_at"):
            jobs.run_job(job_id=job.pk)

    # API2
    @cached_property
    def api2(self) -> dict:
        """API2 needs a PRO tier above 0; two templates, one with every optional parameter field."""
        self.load_catalogue()
        subscribe(self.user, 1)
        make_template("portrait")
        make_template(
            "showcase",
            parameters=[
                *STANDARD_PARAMETERS,
                parameter(
                    "Face",
                    "%face%",
                    "file",
                    type="image",
                    ui_type="upload",
                    description="A face to keep",
                    user_value="ada.png",
                    extra_data={"accept": ["image/png"]},
                    file_group="faces",
                    file_group_destination="input/faces",
                    is_hidden=False,
                ),
            ],
            files={"Checkpoints": {"file_names": ["sd_xl_base_1.0.safetensors"], "support_file_type": "checkpoint"}},
        )
        return self.headers


@pytest.fixture
def world(api_client, django_capture_on_commit_callbacks) -> World:
    return World(api_client, django_capture_on_commit_callbacks)


def payload_of(response):
    assert response.status_code == 200, (response.status_code, response.content[:500])
    return response.json()["payload"]


def filled(response) -> None:
    """The answer's payload is a list with entries (an empty list would prove nothing)."""
    assert isinstance(payload_of(response), list) and payload_of(response), response.json()


# --- one call per operation ------------------------------------------------------------------------------

CASES = {}  # operation id -> a function of the World that answers the responses to check


def case(*operation_ids):
    """Register a case; one registered for several operations gets the ``operation_id``."""

    def register(function):
        for operation_id in operation_ids:
            CASES[operation_id] = partial(function, operation_id=operation_id) if len(operation_ids) > 1 else function
        return function

    return register


@case("getItem")
def _get_item(world):
    answer = world.get("/getItem", {"imageID": str(world.public_item.pk)})
    assert {"folderID", "folderAddedDate", "isLiked", "batchID", "completedDate"} <= set(payload_of(answer))
    return [answer]


@case("getItemDetails")
def _get_item_details(world):
    answer = world.get("/getItemDetails", {"imageID": str(world.public_item.pk)})
    assert {"workflowRunParameters", "negprompt", "profilePicture", "folderID"} <= set(payload_of(answer))
    assert payload_of(answer)["lora"] and payload_of(answer)["lora_strength"] and payload_of(answer)["tags"]
    return [answer]


@case("getLastCompletedItem")
def _get_last_completed_item(world):
    world.library()
    return [world.get("/getLastCompletedItem")]


@case("getMyCreations")
def _get_my_creations(world):
    world.library()
    answer = world.get("/getMyCreations")
    filled(answer)
    return [answer]


@case("getPublicCreations")
def _get_public_creations(world):
    world.library()
    answer = world.get("/getPublicCreations")
    filled(answer)
    return [answer]


@case("getBatchItems")
def _get_batch_items(world):
    world.library()
    answer = world.get("/getBatchItems", {"batchID": str(world.batch)})
    filled(answer)
    return [answer]


@case("getSampleItems")
def _get_sample_items(world):
    world.library()
    answer = world.get("/getSampleItems")
    filled(answer)
    return [answer]


@case("getLatestItems")
def _get_latest_items(world):
    world.library()
    answer = world.get("/getLatestItems")
    filled(answer)
    return [answer]


@case("getItems")
def _get_items(world):
    world.library()
    answer = world.get("/getItems", headers=as_admin_key(staff_with_role("admin")))
    filled(answer)
    return [answer]


@case("setItemProperties")
def _set_item_properties(world):
    return [world.post("/setItemProperties", {"imageID": str(world.private_item.pk), "isPublic": True})]


@case("likeItems", "unlikeItems", "dislikeItems", "undislikeItems")
def _reactions(world, operation_id):
    # One id that succeeds, one that fails (its entry carries a message).
    body = {"imageIDs": [str(world.public_item.pk), str(uuid.uuid4())]}
    answer = world.post(f"/{operation_id}", body)
    assert [entry["success"] for entry in payload_of(answer)] == [True, False]
    return [answer]


@case("getSelfFolders")
def _get_self_folders(world):
    world.library()
    answer = world.get("/getSelfFolders")
    filled(answer)
    assert payload_of(answer)[0]["sampleImages"] and payload_of(answer)[0]["thumbnails"]
    return [answer]


@case("getPublicFolders")
def _get_public_folders(world):
    world.library()
    answer = world.get("/getPublicFolders")
    filled(answer)
    assert payload_of(answer)[0]["sampleImages"] and payload_of(answer)[0]["thumbnails"]
    return [answer]


@case("createSelfFolder", "createPublicFolder")
def _create_folder(world, operation_id):
    return [world.post(f"/{operation_id}", {"name": "Holidays", "description": "Summer 2024"})]


@case("setSelfFolderProperties")
def _set_self_folder_properties(world):
    world.library()
    body = {"folderID": world.private_folder.wire_id, "folderName": "Renamed"}
    return [world.post("/setSelfFolderProperties", body)]


@case("setPublicFolderProperties")
def _set_public_folder_properties(world):
    world.library()
    body = {"folderID": world.public_folder.wire_id, "folderDescription": "The best ones"}
    return [world.post("/setPublicFolderProperties", body)]


@case("getTagsList")
def _get_tags_list(world):
    world.library()
    answer = world.get("/getTagsList")
    filled(answer)
    return [answer]


@case("generateImage")
def _generate_image(world):
    world.load_catalogue()
    body = {"prompt": "a red fox in the snow", "seed": 42, "folderID": world.private_folder.wire_id}
    answer = world.post("/generateImage", body)
    assert {"folderID", "queuePosition"} <= set(payload_of(answer))
    return [answer]


@case("generateVideo")
def _generate_video(world):
    world.load_catalogue()
    return [world.post("/generateVideo", {"prompt": "dancing lights", "seed": 3, "steps": 4})]


@case("getItemStatus")
def _get_item_status(world):
    world.load_catalogue()
    queued = payload_of(world.post("/generateVideo", {"prompt": "dancing lights", "seed": 3, "steps": 4}))
    before = world.get("/getItemStatus", {"imageID": queued["imageID"]})
    world.run_queued()
    after = world.get("/getItemStatus", {"imageID": queued["imageID"]})
    assert payload_of(after)["status"] == "completed" and payload_of(after)["frames"] and payload_of(after)["url"]
    return [before, after]


@case("getModels")
def _get_models(world):
    world.load_catalogue()
    answer = world.get("/getModels")
    filled(answer)
    return [answer]


@case("getQueuesLength")
def _get_queues_length(world):
    world.load_catalogue()
    world.post("/generateImage", {"prompt": "a lighthouse", "seed": 1})
    answer = world.get("/getQueuesLength")
    filled(answer)
    assert any(entry["queueLength"] for entry in payload_of(answer))
    return [answer]


@case("getSamplePrompts")
def _get_sample_prompts(world):
    SamplePrompt.objects.create(positive_prompt="a castle at dawn", negative_prompt="fog", user=world.user)
    SamplePrompt.objects.create(positive_prompt="a quiet harbour")
    answer = world.get("/getSamplePrompts")
    filled(answer)
    return [answer, world.get("/getSamplePrompts", {"randomOne": "true"})]


@case("getAggregatedWorkflowTemplates")
def _get_aggregated_workflow_templates(world):
    headers = world.api2
    answer = world.get("/2/getAggregatedWorkflowTemplates", headers=headers)
    filled(answer)
    assert any(template["workflowTemplateFiles"] for template in payload_of(answer))
    return [answer]


@case("getWorkflowStatus")
def _get_workflow_status(world):
    headers = world.api2
    body = {"workflowTemplateName": "portrait", "prompt": "a red fox in snow", "seed": 7}
    with world.capture(execute=True):
        completed = payload_of(world.post("/2/enqueueWorkflow", body, headers=headers))["workflowId"]
    cancelled = payload_of(world.post("/2/enqueueWorkflow", body, headers=headers))["workflowId"]
    jobs.cancel_job(job=GenerationJob.objects.get(pk=cancelled))
    queued = payload_of(world.post("/2/enqueueWorkflow", body, headers=headers))["workflowId"]

    one = world.get("/2/getWorkflowStatus", {"workflowId": completed}, headers=headers)
    assert payload_of(one)["outputFiles"] and payload_of(one)["state"] == "completed"
    many = world.get("/2/getWorkflowStatus", {"workflowIds": f"{completed},{cancelled},{queued}"}, headers=headers)
    assert [state["state"] for state in payload_of(many)] == ["completed", "error", "running"]
    return [one, many]


# --- the tests -------------------------------------------------------------------------------------------


def test_every_operation_has_a_case():
    assert set(CASES) == OPERATIONS


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_the_payload_is_documented_precisely(openapi, operation_id):
    """Not a free-form object: an array, an object with its properties, or a choice of those."""
    payload = response_schema(openapi, operation_id)["properties"]["payload"]
    assert payload.get("type") == "array" or payload.get("properties") or payload.get("oneOf"), payload
    # A list answer drf-spectacular took for a paginated list view would be a "Paginated..." component.
    assert "Paginated" not in json.dumps(_operation(openapi, operation_id)[2]["responses"]["200"])


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_the_answer_matches_the_documented_schema(openapi, world, operation_id):
    for answer in CASES[operation_id](world):
        assert answer.status_code == 200, (answer.status_code, answer.content[:500])
        assert problems(openapi, operation_id, answer.json()) == []


# --- the validation itself is strict ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda image: image.update(likeCount="3"), "likeCount: '3' is not of type 'integer'"),
        (lambda image: image.update(isPublic=1), "isPublic: 1 is not of type 'boolean'"),
        (lambda image: image.update(id="not-a-uuid"), "id: 'not-a-uuid' is not a 'uuid'"),
        (lambda image: image.update(completedTimestamp="yesterday"), "completedTimestamp: 'yesterday' is not a"),
        (lambda image: image.update(mtype="audio"), "mtype: 'audio' is not one of"),
        (lambda image: image.update(folderID=None), "folderID: None is not of type 'string'"),
        (lambda image: image.pop("url"), "'url' is a required property"),
        (lambda image: image.update(secret="x"), "Additional properties are not allowed ('secret' was unexpected)"),
    ],
)
def test_a_wrong_field_fails_the_validation(openapi, world, change, expected):
    body = world.get("/getItem", {"imageID": str(world.public_item.pk)}).json()
    assert problems(openapi, "getItem", body) == []
    change(body["payload"])
    found = problems(openapi, "getItem", body)
    assert len(found) == 1 and expected in found[0], found


def test_nullable_fields_accept_null_and_nothing_else(openapi, world):
    headers = world.api2
    body = {"workflowTemplateName": "portrait", "prompt": "a fox"}
    workflow = payload_of(world.post("/2/enqueueWorkflow", body, headers=headers))["workflowId"]
    answer = world.get("/2/getWorkflowStatus", {"workflowId": workflow}, headers=headers).json()
    assert answer["payload"]["startTime"] is None
    assert problems(openapi, "getWorkflowStatus", answer) == []
    answer["payload"]["startTime"] = 17
    assert problems(openapi, "getWorkflowStatus", answer) != []
