"""AIMG generateImage, generateVideo and getItemStatus over HTTP: the GenerationStatus object, every
validation refusal (each naming the parameter and the allowed values), access rules, and the items
a generation leaves (getItemDetails: every ImageInfo generation field)."""

import uuid

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from apps.accounts.services import set_abuse_level
from apps.items.models import Item
from apps.text2image.models import GenerationJob
from apps.text2image.selectors import job_items
from apps.text2image.services import jobs, policy
from tests.factories import UserFactory

from .engine_support import NOT_SIGNED_IN, as_session, as_user, ok, session_for, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def user():
    return UserFactory(username="ada")


def post(client, path, body, headers):
    return client.post(path, body, format="json", **headers)


def error(response) -> str:
    body = response.json()
    assert body["hasError"] is True and body["payload"] is None
    return body["errorMessage"]


def run_queued():
    for job in GenerationJob.objects.filter(status="queued").order_by("queued_at"):
        jobs.run_job(job_id=job.pk)


# --- generateImage -----------------------------------------------------------------------------------


def test_generate_image_queues_a_job_and_answers_its_generation_status(client, user, f222):
    response = post(client, "/generateImage", {"prompt": "a red fox in the snow", "seed": 42}, as_user(user))

    assert response.status_code == 200
    item = Item.objects.get()
    assert response.json() == ok(
        {"imageID": str(item.pk), "status": "queued", "ignoredWords": "", "mtype": "image", "queuePosition": 1}
    )
    job = GenerationJob.objects.get()
    assert (job.owner, job.model_id, job.kind, job.status, job.queue) == (user, "f222", "image", "queued", "t2i-f222")
    assert job.parameters == {
        "steps": 20,
        "width": 512,
        "height": 512,
        "sampler": "DPM++ 2M Karras",
        "cfg_scale": 7.0,
        "seed": 42,
        "subseed": job.parameters["subseed"],
        "subseed_strength": 0.0,
        "restore_faces": False,
        "loras": [],
    }
    assert (item.status, item.generation_id, item.batch_id, item.owner) == ("queued", str(job.pk), job.batch_id, user)


def test_every_parameter_is_kept_as_given(client, user, f222):
    body = {
        "prompt": "a glasshouse of orchids",
        "negprompt": "blurry",
        "modelName": "f222",
        "steps": 33,
        "seed": 7,
        "subseed": 9,
        "subseed_strength": 0.25,
        "width": 1024,
        "height": 768,
        "sampler": "Euler a",
        "cfgscale": 4.5,
        "restoreFaces": True,
    }
    assert post(client, "/generateImage", body, as_user(user)).status_code == 200
    job = GenerationJob.objects.get()
    assert job.parameters == {
        "steps": 33,
        "width": 1024,
        "height": 768,
        "sampler": "Euler a",
        "cfg_scale": 4.5,
        "seed": 7,
        "subseed": 9,
        "subseed_strength": 0.25,
        "restore_faces": True,
        "loras": [],
    }
    assert (job.raw_negative_prompt, job.negative_prompt) == ("blurry", "blurry")


def test_a_completed_generation_has_a_url_and_every_image_info_field(client, user, f222):
    headers = as_user(user)
    body = {"prompt": "a lighthouse at dusk", "negprompt": "fog", "seed": 11, "subseed": 12, "cfgscale": 6}
    image_id = post(client, "/generateImage", body, headers).json()["payload"]["imageID"]
    run_queued()

    status = client.get("/getItemStatus", {"imageID": image_id}, **headers)
    item = Item.objects.get(pk=image_id)
    assert status.json() == ok(
        {
            "imageID": image_id,
            "status": "completed",
            "ignoredWords": "",
            "mtype": "image",
            "url": f"http://testserver/getFile?id={item.file_id}",
        }
    )
    details = client.get("/getItemDetails", {"imageID": image_id}, **headers).json()["payload"]
    job = GenerationJob.objects.get()
    assert {key: details[key] for key in details if key not in ("completedDate", "completedTimestamp")} == {
        "id": image_id,
        "userID": str(user.pk),
        "batchID": str(job.batch_id),
        "username": "ada",
        "profilePicture": "",
        "url": f"http://testserver/getFile?id={item.file_id}",
        "viewCount": 0,
        "likeCount": 0,
        "dislikeCount": 0,
        "prompt": "a lighthouse at dusk",
        "negprompt": "fog",
        "generatorVersion": "1",
        "modelName": "F222",
        "modelID": "f222",
        "steps": 20,
        "seed": 11,
        "subseed": 12,
        "subseed_strength": 0.0,
        "lora": [],
        "lora_strength": [],
        "sampler": "DPM++ 2M Karras",
        "cfgscale": 6.0,
        "restoreFaces": False,
        "height": 512,
        "width": 512,
        "mtype": "image",
        "tags": [],
        "isLiked": False,
        "isDisliked": False,
        "isPublic": False,
        "isPubliclyVisible": False,
        "publicApprovalStatus": "none",
    }
    assert isinstance(details["completedDate"], int)
    assert item.thumbnail_id and item.thumbnail_id != item.file_id
    assert (item.width, item.height, item.status) == (512, 512, "completed")
    file = client.get("/getFile", {"id": item.file_id})
    assert file.status_code == 200 and file["Content-Type"] == "image/png"


def test_a_guest_generates_and_sees_their_own_status(client, f222):
    guest = session_for()
    response = post(client, "/generateImage", {"prompt": "a tram in the rain"}, as_session(guest))
    assert response.status_code == 200
    image_id = response.json()["payload"]["imageID"]
    item = Item.objects.get(pk=image_id)
    assert (item.owner, item.guest_session) == (None, guest)
    assert client.get("/getItemStatus", {"imageID": image_id}, **as_session(guest)).status_code == 200
    other = client.get("/getItemStatus", {"imageID": image_id}, **as_session(session_for()))
    assert other.status_code == 404


def test_without_a_session_nothing_is_generated(client, f222):
    response = client.post("/generateImage", {"prompt": "x"}, format="json")
    assert response.status_code == 401
    assert error(response) == NOT_SIGNED_IN
    assert not GenerationJob.objects.exists()


def test_ignored_words_are_removed_and_reported(client, user, f222):
    words = policy.save_term_list(name="noise", terms=["masterpiece", "best quality"])
    policy.save_rule(name="noise words", action="ignore", term_lists=[words])
    body = {"prompt": "Masterpiece, a red fox, BEST quality"}
    response = post(client, "/generateImage", body, as_user(user))
    assert response.json()["payload"]["ignoredWords"] == "Masterpiece, BEST quality"
    job = GenerationJob.objects.get()
    assert (job.raw_prompt, job.prompt) == ("Masterpiece, a red fox, BEST quality", "a red fox")
    item = Item.objects.get()
    assert (item.raw_prompt, item.prompt) == ("Masterpiece, a red fox, BEST quality", "a red fox")


def test_a_blocked_prompt_is_refused_and_nothing_is_made(client, user, f222):
    response = post(client, "/generateImage", {"prompt": "naked teen on a beach"}, as_user(user))
    assert response.status_code == 400
    assert error(response) == "prompt: Prompts that combine sexual content with minors are refused."
    assert not GenerationJob.objects.exists() and not Item.objects.exists()


# --- validation refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"steps": 0}, "steps: Must be a whole number from 1 to 50 for f222."),
        ({"steps": 51}, "steps: Must be a whole number from 1 to 50 for f222."),
        ({"steps": 20.5}, "steps: Must be a whole number from 1 to 50 for f222."),
        ({"width": 640}, "width: Must be one of 512, 768, 1024 for f222."),
        ({"height": 100}, "height: Must be one of 512, 768, 1024 for f222."),
        (
            {"width": 1024, "height": 1024},
            "width: 1024x1024 is 1,048,576 pixels; f222 allows at most 786,432 (maxResolution). "
            "Choose a smaller width or height.",
        ),
        (
            {"sampler": "LMS"},
            "sampler: Must be one of DPM++ 2M Karras, DPM++ SDE Karras, Euler a, Euler, DDIM for f222.",
        ),
        ({"cfgscale": 0.5}, "cfgscale: Must be a number from 1 to 12 for f222."),
        ({"cfgscale": 12.5}, "cfgscale: Must be a number from 1 to 12 for f222."),
        ({"seed": -2}, "seed: Must be a whole number from 0 to 4294967295, or -1 for a random one."),
        ({"subseed": 2**32}, "subseed: Must be a whole number from 0 to 4294967295, or -1 for a random one."),
        ({"subseed_strength": 1.5}, "subseed_strength: Must be a number from 0 to 1."),
        ({"steps": "20"}, "steps: Must be a number."),
        ({"cfgscale": True}, "cfgscale: Must be a number."),
        ({"restoreFaces": "yes"}, "restoreFaces: Must be true or false."),
        ({"prompt": ""}, "prompt: This field may not be blank."),
        ({"prompt": 5}, "prompt: Must be a string."),
        ({"modelName": "nope"}, "modelName: Unknown image model 'nope'; the image models are: f222."),
        ({"modelName": "model3"}, "modelName: Unknown image model 'model3'; the image models are: f222."),
        ({"modelName": "sd15-a1111"}, "modelName: Unknown image model 'sd15-a1111'; the image models are: f222."),
    ],
)
def test_each_bad_parameter_is_refused_with_the_allowed_values(client, user, f222, body, message):
    body = {"prompt": "a fox", **body}
    response = post(client, "/generateImage", body, as_user(user))
    assert response.status_code == 400
    assert error(response) == message
    assert not GenerationJob.objects.exists()


def test_several_bad_parameters_are_named_together(client, user, f222):
    response = post(client, "/generateImage", {"prompt": "a fox", "steps": 99, "sampler": "LMS"}, as_user(user))
    assert response.status_code == 400
    assert error(response) == (
        "steps: Must be a whole number from 1 to 50 for f222.; "
        "sampler: Must be one of DPM++ 2M Karras, DPM++ SDE Karras, Euler a, Euler, DDIM for f222."
    )


def test_a_model_may_narrow_the_cfg_range(client, user, f222):
    f222.min_cfg_scale, f222.max_cfg_scale, f222.default_cfg_scale = 2, 9, 7
    f222.save()
    response = post(client, "/generateImage", {"prompt": "a fox", "cfgscale": 10}, as_user(user))
    assert error(response) == "cfgscale: Must be a number from 2 to 9 for f222."


def test_a_body_that_is_not_an_object_is_refused(client, user, f222):
    response = client.post("/generateImage", [1, 2], format="json", **as_user(user))
    assert response.status_code == 400
    assert not GenerationJob.objects.exists()


# --- access --------------------------------------------------------------------------------------------


def test_min_tier_is_enforced(client, user, f222):
    f222.min_tier = 1
    f222.save()
    response = post(client, "/generateImage", {"prompt": "a fox"}, as_user(user))
    assert response.status_code == 403
    assert error(response) == "The model F222 needs PRO tier 1 or higher; your tier is 0."
    subscribe(user, 1)
    assert post(client, "/generateImage", {"prompt": "a fox"}, as_user(user)).status_code == 200


def test_the_registration_wall_turns_guests_away(client, model3):
    response = post(client, "/generateVideo", {"prompt": "waves"}, as_session(session_for()))
    assert response.status_code == 401
    assert error(response) == "Sign up or sign in to use the model Model 3 (video)."
    assert not GenerationJob.objects.exists()


def test_an_abuse_level_blocks_generation(client, user, f222):
    set_abuse_level(user=user, level=1)
    response = post(client, "/generateImage", {"prompt": "a fox"}, as_user(user))
    assert response.status_code == 403
    assert "blocked" in error(response)
    assert not GenerationJob.objects.exists()


def test_premium_users_go_to_the_priority_queue(client, user, f222):
    subscribe(user, 2)
    post(client, "/generateImage", {"prompt": "a fox"}, as_user(user))
    job = GenerationJob.objects.get()
    assert (job.priority, job.queue, job.tier) == (True, "t2i-f222-p1-", 2)


# --- folders -------------------------------------------------------------------------------------------


def test_items_go_to_the_folder_named_by_folder_id(client, user, f222):
    from apps.folders import services as folders

    folder = folders.create_folder(owner=user, name="foxes", is_public=False)
    response = post(client, "/generateImage", {"prompt": "a fox", "folderID": str(folder.pk)}, as_user(user))
    payload = response.json()["payload"]
    assert payload["folderID"] == str(folder.pk)
    run_queued()
    item = Item.objects.get()
    assert item.folder_id == folder.pk
    assert client.get("/getItemStatus", {"imageID": payload["imageID"]}, **as_user(user)).json()["payload"][
        "folderID"
    ] == str(folder.pk)


def test_an_unknown_folder_is_refused_before_anything_is_made(client, user, f222):
    response = post(client, "/generateImage", {"prompt": "a fox", "folderID": str(uuid.uuid4())}, as_user(user))
    assert response.status_code == 404
    assert not GenerationJob.objects.exists()


# --- generateVideo -------------------------------------------------------------------------------------


def test_generate_video_makes_an_animated_item_with_its_frames(client, user, model3):
    headers = as_user(user)
    response = post(client, "/generateVideo", {"prompt": "dancing lights", "seed": 3, "steps": 4}, headers)
    assert response.status_code == 200
    payload = response.json()["payload"]
    assert payload == {
        "imageID": payload["imageID"],
        "status": "queued",
        "ignoredWords": "",
        "mtype": "video",
        "queuePosition": 1,
        "frames": [],
    }
    run_queued()
    payload = client.get("/getItemStatus", {"imageID": payload["imageID"]}, **headers).json()["payload"]
    item = Item.objects.get()
    assert (payload["status"], payload["mtype"], item.media_kind, item.model_media_type) == (
        "completed",
        "video",
        "video",
        "Video",
    )
    assert payload["url"] == f"http://testserver/getFile?id={item.file_id}"
    frames = payload["frames"]
    assert len(frames) == 16
    assert frames[0] == {
        "frameCount": 16,
        "frameNumber": 0,
        "frameUrl": f"http://testserver/getFile?id={item.parameters['frames'][0]}",
    }
    assert [frame["frameNumber"] for frame in frames] == list(range(16))
    animated = client.get("/getFile", {"id": item.file_id})
    assert animated["Content-Type"] == "image/webp"


def test_generate_video_keeps_input_and_control_net_preset(client, user, model3):
    body = {"prompt": "waves", "input": "slow zoom", "controlNetPreset": "depth"}
    assert post(client, "/generateVideo", body, as_user(user)).status_code == 200
    job = GenerationJob.objects.get()
    assert (job.parameters["input"], job.parameters["control_net_preset"]) == ("slow zoom", "depth")
    assert job.parameters["frame_count"] == 16


def test_an_image_model_is_refused_for_videos(client, user, f222, model3):
    response = post(client, "/generateVideo", {"prompt": "waves", "modelName": "f222"}, as_user(user))
    assert response.status_code == 400
    assert error(response) == "modelName: Unknown video model 'f222'; the video models are: model3."


# --- getItemStatus -------------------------------------------------------------------------------------


def test_item_status_follows_the_job_and_the_queue(client, user, f222):
    headers = as_user(user)
    first = post(client, "/generateImage", {"prompt": "one"}, headers).json()["payload"]["imageID"]
    other = UserFactory()
    second = post(client, "/generateImage", {"prompt": "two"}, as_user(other)).json()["payload"]["imageID"]
    assert client.get("/getItemStatus", {"imageID": first}, **headers).json()["payload"]["queuePosition"] == 1
    second_status = client.get("/getItemStatus", {"imageID": second}, **as_user(other)).json()["payload"]
    assert (second_status["status"], second_status["queuePosition"]) == ("queued", 2)

    GenerationJob.objects.filter(owner=user).update(status="running")
    running = client.get("/getItemStatus", {"imageID": first}, **headers).json()["payload"]
    assert running == {"imageID": first, "status": "running", "ignoredWords": "", "mtype": "image"}
    assert client.get("/getItemStatus", {"imageID": second}, **as_user(other)).json()["payload"]["queuePosition"] == 1


def test_a_failed_generation_says_failed(client, user, f222):
    headers = as_user(user)
    image_id = post(client, "/generateImage", {"prompt": "one"}, headers).json()["payload"]["imageID"]
    job = GenerationJob.objects.get()
    jobs.cancel_job(job=job)
    payload = client.get("/getItemStatus", {"imageID": image_id}, **headers).json()["payload"]
    assert payload["status"] == "cancelled"
    assert Item.all_objects.get(pk=image_id).is_deleted  # no broken item in the library


def test_item_status_of_an_unknown_or_foreign_item_is_not_found(client, user, f222):
    response = client.get("/getItemStatus", {"imageID": str(uuid.uuid4())}, **as_user(user))
    assert response.status_code == 404
    assert client.get("/getItemStatus", {"imageID": "nope"}, **as_user(user)).status_code == 400
    image_id = post(client, "/generateImage", {"prompt": "one"}, as_user(user)).json()["payload"]["imageID"]
    assert client.get("/getItemStatus", {"imageID": image_id}, **as_user(UserFactory())).status_code == 404


@override_settings(GENERATION_INLINE_BUDGET=30)
def test_a_short_generation_runs_inline_when_the_budget_allows(client, user, f222):
    response = post(client, "/generateImage", {"prompt": "quick"}, as_user(user))
    payload = response.json()["payload"]
    assert payload["status"] == "completed"
    assert payload["url"].startswith("http://testserver/getFile?id=")
    assert job_items(GenerationJob.objects.get()).get().status == "completed"
