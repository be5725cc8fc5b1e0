"""Failure drills: what Atelier does when a dependency fails while it works (docs/operations.md,
"Failure drills", lists each drill with the test that proves it).

- The broker is unreachable when work is scheduled: every endpoint that sends a Celery message
  answers 503 in its dialect, in bounded time, and leaves nothing written (no job, task or item
  row, no concurrency slot taken, no stored file).
- PostgreSQL restarts under the web tier (its server connections are terminated, as a restart
  does): the next request succeeds without restarting anything.
- The media store is full (507) or unreachable (503): every upload path fails cleanly and leaves no
  row pointing at a missing file; a worker's failed output write fails its job with a message.
- A generation provider hangs: the job times out and fails cleanly, its lease and slot released.

(A Celery worker killed mid-generation: tests/text2image/test_e2e_worker.py.)
"""

import base64
import json
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from apps.accounts import services as accounts
from apps.accounts.models import OneTimePassword
from apps.billing.models import Subscription
from apps.core.domains import default_domain
from apps.core.errors import StorageFull
from apps.core.media.storage import save_file
from apps.core.models import FileObject, MediaResource, Upload
from apps.items.models import Item
from apps.styles.models import Style
from apps.subjects.models import Subject, SubjectBaseImage, SubjectBaseImagesUploadTask
from apps.text2image.models import GenerationJob, GenerationModel, Text2ImageTask, TextProcessingTask
from apps.text2image.selectors import jobs as job_selectors
from apps.text2image.services import catalogue, jobs
from apps.text2image.tasks.generation import run_generation_job
from config.settings.base import broker_transport_options
from tests.core.dialect_support import bearer_for
from tests.factories import MembershipFactory, OrganizationFactory, StaffFactory, UserFactory
from tests.sartiq_support import client_for
from tests.subjects.support import Caller, data_uri, jpeg
from tests.subjects.zips import zip_bytes
from tests.text2image.engine_support import as_user, png_bytes, schedule, subscribe
from tests.text2image.ocs.support import OCS_HEADER, SUMMARY, basic_for, ocs_json, url
from tests.text2image.workflows_support import make_template

from .drill_support import (
    DOWN_BROKERS,
    QUEUE_DOWN,
    STORES,
    ChunksThenFull,
    SilentServer,
    broker_at,
    stored_names,
    use_storage,
    wsgi_get,
)

AIMG_QUEUE_DOWN = {"hasError": True, "errorMessage": QUEUE_DOWN, "payload": None}
METADATA = {"name": "Lea", "surname": "Vogt", "age_class": "teen", "gender": "FEMALE", "body_type": "SLIM"}


def aimg_error(message: str) -> dict:
    return {"hasError": True, "errorMessage": message, "payload": None}


@pytest.fixture
def models(db):
    catalogue.load_default_models()
    return {model.model_id: model for model in GenerationModel.objects.all()}


@pytest.fixture
def fresh_storage(settings):
    settings.STORAGES = {**settings.STORAGES}
    return default_storage


def nothing_scheduled():
    assert not GenerationJob.objects.exists()
    assert not Item.all_objects.exists()
    assert not Text2ImageTask.objects.exists()
    assert not TextProcessingTask.objects.exists()


# === the broker is unreachable at schedule time ===========================================================
#
# Messages go out when the request's transaction commits, so these tests need real commits
# (transactional, each a few seconds of set-up): one test per dialect, every endpoint of it in turn.


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", sorted(DOWN_BROKERS))
def test_aimg_generation_with_the_broker_down_is_a_503_and_schedules_nothing(api_client, models, broker):
    make_template("portrait")
    user = UserFactory()
    subscribe(user, tier=1)
    headers = as_user(user)
    calls = [
        ("/generateImage", {"prompt": "a lighthouse at dusk", "modelName": "f222"}),
        ("/generateVideo", {"prompt": "waves on a beach", "modelName": "model3"}),
        ("/2/enqueueWorkflow", {"workflowTemplateName": "portrait", "prompt": "a fox"}),
    ]
    with broker_at(DOWN_BROKERS[broker]):
        for path, body in calls:
            response = api_client.post(path, body, format="json", **headers)
            assert (response.status_code, response.json()) == (503, AIMG_QUEUE_DOWN), path
    nothing_scheduled()
    for model_id in ("f222", "model3"):
        assert job_selectors.active_item_count(owner=user, guest_session=None, model_id=model_id) == 0


@pytest.mark.django_db(transaction=True)
def test_the_concurrency_slot_is_free_once_the_broker_is_back(api_client, models):
    models["f222"].tier0_concurrent = 1
    models["f222"].save()
    user = UserFactory()
    headers = as_user(user)
    body = {"prompt": "a lighthouse at dusk", "modelName": "f222"}
    with broker_at(DOWN_BROKERS["redis"]):
        assert api_client.post("/generateImage", body, format="json", **headers).status_code == 503
    # The broker is back (eager here): the one generation this tier may run is accepted and runs.
    response = api_client.post("/generateImage", body, format="json", **headers)
    assert response.status_code == 200, response.json()
    assert GenerationJob.objects.get().status == "completed"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", sorted(DOWN_BROKERS))
def test_ocs_scheduling_with_the_broker_down_is_a_503(api_client, settings, broker):
    model = GenerationModel.objects.create(
        model_id="ocs-procedural",
        name="OCS procedural",
        provider="procedural",
        tier0_concurrent=8,
        allowed_widths=[64],
        allowed_heights=[64],
        default_resolution=[64, 64],
        default_steps=4,
    )
    settings.OCS_TEXT2IMAGE_MODEL = model.model_id
    settings.OCS_INLINE_SHARE = 0  # nothing runs during the request: every task goes to the broker
    user = UserFactory()
    schedules = [
        ("text2image/schedule", {"input": "a lighthouse at dusk", "appId": "assistant", "numberOfImages": 2}),
        ("textprocessing/schedule", {"input": "A long text. " * 20, "type": SUMMARY, "appId": "assistant"}),
    ]
    with broker_at(DOWN_BROKERS[broker]):
        for path, payload in schedules:
            v2 = api_client.post(url(2, f"{path}?format=json"), payload, format="json", **OCS_HEADER, **basic_for(user))
            assert v2.status_code == 503
            assert ocs_json(v2)["meta"] == {"status": "failure", "statuscode": 503, "message": QUEUE_DOWN}
            v1 = api_client.post(url(1, f"{path}?format=json"), payload, format="json", **OCS_HEADER, **basic_for(user))
            assert v1.status_code == 200  # OCS v1 carries the failure in the body
            assert ocs_json(v1)["meta"] == {
                "status": "failure",
                "statuscode": 996,
                "message": QUEUE_DOWN,
                "totalitems": "",
                "itemsperpage": "",
            }
    nothing_scheduled()


@pytest.mark.django_db(transaction=True)
def test_a_subject_zip_upload_with_the_broker_down_is_a_503_and_keeps_nothing(fresh_storage):
    alice = Caller(UserFactory())
    subject = Subject.objects.create(owner=alice.user, name="Anna", slug="anna", age_class="adult")
    uploads = {
        "into a subject": (f"?subject_id={subject.pk}", {"front_full_body.jpg": jpeg()}),
        "making a subject": ("", {"metadata.json": json.dumps(METADATA).encode(), "cover.jpg": jpeg()}),
    }
    with broker_at(DOWN_BROKERS["rabbitmq"]):
        for what, (query, files) in uploads.items():
            response = alice.upload_zip(zip_bytes(files), query=query)
            assert (response.status_code, response.json()) == (503, {"detail": QUEUE_DOWN}), what
    assert not SubjectBaseImagesUploadTask.objects.exists()
    assert list(Subject.all_objects.values_list("pk", flat=True)) == [subject.pk]
    assert stored_names(fresh_storage) == set()


@pytest.mark.django_db(transaction=True)
def test_aimg_mail_requests_with_the_broker_down_are_503s_and_change_nothing(api_client):
    earlier, code = accounts.issue_otp(domain=default_domain(), email="vixen@example.com")
    OneTimePassword.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - timedelta(hours=1))
    user = UserFactory()
    Subscription.objects.create(
        user=user, domain=user.domain, merchant_processor="patreon", tier=1, product_id="patreon-tier1"
    )
    both = UserFactory()
    for processor, next_billing in (("arkpay", timezone.now() + timedelta(days=10)), ("patreon", None)):
        Subscription.objects.create(
            user=both,
            domain=both.domain,
            merchant_processor=processor,
            tier=1,
            product_id=f"{processor}-tier1",
            next_billing_date=next_billing,
        )
    guest = {"HTTP_X_SESSION_ID": str(_session().pk)}
    with broker_at(DOWN_BROKERS["redis"]):
        otp = api_client.post("/requestOTP", {"email": "vixen@example.com"}, format="json")
        pay = api_client.post("/payWithCardEmail", {"email": "visitor@example.com"}, format="json", **guest)
        cancel = api_client.delete("/cancelMembership", **as_user(user))
        cancel_both = api_client.delete("/cancelMembership", **as_user(both))
    for response in (otp, pay, cancel):
        assert (response.status_code, response.json()) == (503, AIMG_QUEUE_DOWN), response.request["PATH_INFO"]
    # The code that never left is gone, the earlier one is live again (and no cooldown holds), and the
    # membership billed elsewhere is unchanged.
    assert list(OneTimePassword.objects.values_list("pk", "voided_at")) == [(earlier.pk, None)]
    assert accounts.consume_otp(domain=default_domain(), email="vixen@example.com", code=code) is True
    assert Subscription.objects.get(user=user).expires_at is None
    # A card membership is cancelled all the same; the answer says the other one's email is not sent.
    assert cancel_both.status_code == 200
    payload = cancel_both.json()["payload"]
    assert payload["success"] is True
    assert payload["message"].startswith("Your membership is cancelled: your PRO tier stays active until ")
    assert payload["message"].endswith(
        "The email with the instructions to cancel your other membership could not be sent now; try again shortly."
    )
    assert Subscription.objects.get(user=both, merchant_processor="arkpay").expires_at is not None


def _session(user=None):
    return accounts.create_session(domain=default_domain(), user=user)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_silent_redis_broker_is_answered_in_bounded_time(api_client, models):
    """A Redis that accepts connections and never answers: without socket timeouts the request
    would hang; with the project's transport options it is a 503 within a few seconds."""
    with SilentServer() as silent:
        broker = f"redis://127.0.0.1:{silent.port}/0"
        with broker_at(broker, transport_options=broker_transport_options(broker)):
            response = api_client.post(
                "/generateImage", {"prompt": "a lighthouse"}, format="json", **as_user(UserFactory())
            )
    assert (response.status_code, response.json()) == (503, AIMG_QUEUE_DOWN)
    nothing_scheduled()


# === PostgreSQL restarts during load =========================================================================


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate(pid: int) -> None:
    """What a PostgreSQL restart does to a web process's connection, without restarting the server
    other test runs share: the backend is terminated from another connection."""
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            for _ in range(100):
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone()[0] == 0:
                    return
                time.sleep(0.05)
        raise AssertionError(f"backend {pid} is still there")
    finally:
        other.close()


@pytest.fixture
def persistent_connections():
    """The production connection settings (CONN_MAX_AGE > 0, CONN_HEALTH_CHECKS on), restored after."""
    saved = {key: connection.settings_dict[key] for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    connection.close()
    connection.settings_dict.update({"CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True})
    yield connection.settings_dict
    connection.close()
    connection.settings_dict.update(saved)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_web_tier_survives_a_postgresql_restart(models, persistent_connections):
    headers = {"HTTP_X_SESSION_ID": str(_session(UserFactory()).pk)}
    for _ in range(3):
        status, _ = wsgi_get("/getModels", **headers)
        assert status == 200
    before = _backend_pid()
    assert wsgi_get("/getModels", **headers)[0] == 200
    assert _backend_pid() == before  # one persistent connection, kept between requests
    _terminate(before)
    # The next request finds the connection dead in its health check and opens a new one.
    status, body = wsgi_get("/getModels", **headers)
    assert status == 200, body[:300]
    assert _backend_pid() != before
    assert all(wsgi_get("/getModels", **headers)[0] == 200 for _ in range(3))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_without_health_checks_the_first_request_after_a_restart_fails(models, persistent_connections):
    """What CONN_HEALTH_CHECKS prevents, and what a request in flight at the restart gets: a 503
    in its dialect's format, never a 500 (nothing half-written: its transaction dies with the
    connection); the request after it works again."""
    persistent_connections["CONN_HEALTH_CHECKS"] = False
    connection.close()
    headers = {"HTTP_X_SESSION_ID": str(_session(UserFactory()).pk)}
    assert wsgi_get("/getModels", **headers)[0] == 200
    _terminate(_backend_pid())
    status, body = wsgi_get("/getModels", **headers)
    assert status == 503
    assert json.loads(body) == {
        "hasError": True,
        "errorMessage": "The database could not complete the request. Try again shortly.",
        "payload": None,
    }
    assert wsgi_get("/getModels", **headers)[0] == 200


# === the media store is full or unreachable ==================================================================


@pytest.fixture(params=sorted(STORES))
def broken_store(request, settings):
    backend, status, message = STORES[request.param]
    use_storage(settings, backend)
    return status, message


@pytest.mark.django_db
def test_upload_file_to_a_broken_store(api_client, broken_store):
    status, message = broken_store
    staff = StaffFactory()
    staff.groups.add(Group.objects.get(name="admin"))
    _, key = accounts.create_admin_key(user=staff)
    upload = SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")
    response = api_client.post("/uploadFile", {"file": upload}, format="multipart", HTTP_X_ADMINISTRATION_KEY=key)
    assert (response.status_code, response.json()) == (status, aimg_error(message))
    assert not FileObject.objects.exists()


@pytest.mark.django_db
def test_sartiq_images_to_a_broken_store(broken_store):
    status, message = broken_store
    alice = Caller(UserFactory())
    created = alice.post("/api/v1/subjects/", {"name": "Anna", "age_class": "adult", "cover_image": data_uri()})
    assert (created.status_code, created.json()) == (status, {"detail": message})
    assert not Subject.all_objects.exists()
    assert not MediaResource.all_objects.exists()


@pytest.mark.django_db
def test_a_base_image_to_a_broken_store(settings, broken_store):
    from apps.guidelines.models import ShotType

    status, message = broken_store
    alice = Caller(UserFactory())
    subject = Subject.objects.create(owner=alice.user, name="Anna", slug="anna", age_class="adult")
    shot = ShotType.objects.create(owner=alice.user, name="front", view_angle="front", framing="full_body")
    response = alice.post(
        f"/api/v1/subjects/{subject.pk}/base_images", {"image_url": data_uri(), "shot_type_id": str(shot.pk)}
    )
    assert (response.status_code, response.json()) == (status, {"detail": message})
    assert not SubjectBaseImage.objects.exists()
    assert not MediaResource.all_objects.exists()


@pytest.mark.django_db
def test_a_lora_upload_to_a_broken_store(broken_store):
    from tests.styles.lora_support import small_lora

    status, message = broken_store
    admin = Caller(UserFactory(is_staff=True, is_superuser=True))
    style = Style.objects.create(owner=admin.user, name="Vintage", slug="vintage")
    form = {"file": SimpleUploadedFile("style.safetensors", small_lora()), "lora_trigger": "vntg"}
    response = admin.post(f"/api/v1/styles/admin/{style.pk}/upload-lora", form, format="multipart")
    assert (response.status_code, response.json()) == (status, {"detail": message})
    style.refresh_from_db()
    assert (style.lora_file, style.lora_status, style.local_model_path) == ("", "none", None)


@pytest.mark.django_db
def test_a_subject_zip_upload_to_a_broken_store(broken_store):
    status, message = broken_store
    alice = Caller(UserFactory())
    content = zip_bytes({"metadata.json": json.dumps(METADATA).encode(), "cover.jpg": jpeg()})
    response = alice.upload_zip(content)
    assert (response.status_code, response.json()) == (status, {"detail": message})
    assert not SubjectBaseImagesUploadTask.objects.exists()
    assert not Subject.all_objects.exists()


@pytest.mark.django_db
def test_a_presigned_local_upload_to_a_broken_store(broken_store):
    status, message = broken_store
    user = UserFactory()
    target = client_for(user).post("/api/v1/uploads/", {"content_type": "image/png"}, format="json").json()
    sent = client_for().put(target["upload_url"], data=png_bytes(), content_type="image/png")
    assert (sent.status_code, sent.json()) == (status, {"detail": message})
    upload = Upload.objects.get(pk=target["id"])
    assert (upload.received_at, upload.receiving_since) == (None, None)  # the client may send it again


@pytest.mark.django_db
def test_a_workspace_image_to_a_broken_store(broken_store):
    status, message = broken_store
    workspace = OrganizationFactory()
    member = MembershipFactory(organization=workspace).user
    source = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    response = client_for().post(
        f"/api/image-service/v1/workspaces/{workspace.pk}/images",
        {"imageUrl": source},
        format="json",
        **bearer_for(member),
    )
    assert response.status_code == status
    assert (response.json()["status"], response.json()["message"]) == (status, message)
    assert not Item.all_objects.exists()
    assert not FileObject.objects.exists()


@pytest.mark.django_db
def test_a_failed_output_write_fails_the_job_with_a_message(models, settings, fresh_storage):
    use_storage(settings, "tests.hardening.drill_support.OutputsUnreachableStorage")
    user = UserFactory()
    job = schedule(models["f222"], owner=user, batch_size=2)
    done = jobs.run_job(job_id=job.pk)
    assert (done.status, done.error_message) == (
        "failed",
        "The generated images could not be stored: the file store is unreachable; nothing was stored. "
        "Try again shortly.",
    )
    assert (done.claim_token, done.lease_expires_at) == ("", None)
    assert not Item.objects.filter(generation_id=str(job.pk)).exists()  # none left in the library
    assert set(Item.all_objects.values_list("status", flat=True)) == {"failed"}
    assert not FileObject.objects.exists()
    assert stored_names(default_storage) == set()
    assert job_selectors.active_item_count(owner=user, guest_session=None, model_id="f222") == 0


@pytest.mark.django_db
def test_a_zip_worker_stops_with_a_message_when_the_store_fills_up(settings, django_capture_on_commit_callbacks):
    settings.STORAGES = {**settings.STORAGES}
    alice = Caller(UserFactory())
    subject = Subject.objects.create(owner=alice.user, name="Anna", slug="anna", age_class="adult")
    use_storage(settings, "tests.hardening.drill_support.MediaFullStorage")
    with django_capture_on_commit_callbacks(execute=True):  # the worker runs (eagerly) on commit
        response = alice.upload_zip(zip_bytes({"cover.jpg": jpeg()}), query=f"?subject_id={subject.pk}")
    assert response.status_code == 200
    task = SubjectBaseImagesUploadTask.objects.get()
    assert (task.status, task.error_message) == (
        "FAILED",
        "The file store is full; nothing was stored. Try again later. The images stored before are kept; "
        "send the archive again for the others.",
    )
    assert task.archive_name == ""
    assert stored_names(default_storage) == set()
    assert not MediaResource.all_objects.exists()


def test_a_partly_written_local_file_is_removed(tmp_path):
    storage = FileSystemStorage(location=tmp_path)
    with pytest.raises(StorageFull):
        save_file(storage, "files/ab/partial.bin", ChunksThenFull(b"x" * 1024))
    assert not (tmp_path / "files" / "ab" / "partial.bin").exists()


# === a provider hangs =====================================================================================


@pytest.mark.django_db
def test_a_hanging_provider_times_out_and_the_job_fails_cleanly(models, settings):
    settings.GENERATION_JOB_MAX_ATTEMPTS = 2
    user = UserFactory()
    with SilentServer() as silent:
        model = models["sd15-a1111"]
        model.enabled = True
        model.tier0_concurrent = 1
        model.provider_config = {"base_url": f"http://127.0.0.1:{silent.port}", "timeout": 0.5}
        model.save()
        job = schedule(model, owner=user)
        # The worker's task, run eagerly: the first attempt times out and gives the job back to the
        # queue (a hang may be transient), the second is the last and fails it.
        first = run_generation_job.apply(kwargs={"job_id": str(job.pk)}).get()
        assert first == {"job": str(job.pk), "status": "queued"}
        second = run_generation_job.apply(kwargs={"job_id": str(job.pk)}).get()
        assert second == {"job": str(job.pk), "status": "failed"}
        assert len(silent.accepted) == 2
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("failed", 2)
    assert job.error_message == "The AUTOMATIC1111 server did not answer within 0.5 seconds."
    assert (job.claim_token, job.lease_expires_at) == ("", None)  # the lease is released
    assert not Item.objects.filter(generation_id=str(job.pk)).exists()
    assert job_selectors.active_item_count(owner=user, guest_session=None, model_id=model.model_id) == 0
    # The user's one slot on this model is free again: a new generation is accepted.
    model.provider = "procedural"
    model.save()
    assert schedule(model, owner=user).status == "queued"
