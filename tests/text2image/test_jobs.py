"""The job contract: scheduling rules (tier concurrency, priority), idempotent execution, the exact
queue order, cancellation, retries, the reaper, and the moderation signal of flagged prompts."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.errors import InvalidInput, RateLimited
from apps.core.models import FileObject
from apps.items.models import Item
from apps.text2image.models import GenerationJob
from apps.text2image.selectors import job_items, queue_position
from apps.text2image.services import jobs, policy
from apps.text2image.signals import generation_flagged
from tests.factories import UserFactory

from .engine_support import as_user, schedule, subscribe

pytestmark = pytest.mark.django_db


def set_limits(model, tier0=1, tier1=2, tier2=3):
    model.tier0_concurrent, model.tier1_concurrent, model.tier2_concurrent = tier0, tier1, tier2
    model.save()


# --- tier concurrency ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("tier", "limit"), [(0, 2), (1, 3), (2, 4), (5, 4)])
def test_limit_n_allows_n_refuses_the_next_and_allows_again_after_one_completes(f222, tier, limit):
    set_limits(f222, tier0=2, tier1=3, tier2=4)
    user = UserFactory()
    if tier:
        subscribe(user, tier)
    accepted = [schedule(f222, owner=user) for _ in range(limit)]
    with pytest.raises(RateLimited) as refused:
        schedule(f222, owner=user)
    assert refused.value.message == (
        f"You already have {limit} generations in progress with the model F222, and your tier allows {limit} at a "
        "time. Wait for one to finish, then try again."
    )
    assert GenerationJob.objects.count() == limit

    assert jobs.run_job(job_id=accepted[0].pk).status == "completed"
    assert schedule(f222, owner=user).status == "queued"


def test_the_limit_is_per_model_and_per_user(f222, model3):
    set_limits(f222, tier0=1)
    user, other = UserFactory(), UserFactory()
    schedule(f222, owner=user)
    schedule(model3, owner=user)  # another model
    schedule(f222, owner=other)  # another user
    with pytest.raises(RateLimited):
        schedule(f222, owner=user)


def test_guests_are_limited_by_their_session(f222, guest_session):
    set_limits(f222, tier0=1)
    schedule(f222, guest_session=guest_session)
    with pytest.raises(RateLimited):
        schedule(f222, guest_session=guest_session)


def test_the_refusal_over_http_is_429_with_the_message(f222):
    set_limits(f222, tier0=1)
    user = UserFactory()
    client = APIClient()
    headers = as_user(user)
    assert client.post("/generateImage", {"prompt": "a"}, format="json", **headers).status_code == 200
    response = client.post("/generateImage", {"prompt": "b"}, format="json", **headers)
    assert response.status_code == 429
    assert response.json()["errorMessage"].startswith("You already have 1 generation in progress with the model F222")


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_never_exceed_the_limit(f222):
    set_limits(f222, tier0=2)
    user = UserFactory()
    barrier = threading.Barrier(6, timeout=30)
    outcomes = []
    lock = threading.Lock()

    def attempt():
        try:
            barrier.wait()
            try:
                schedule(f222, owner=user)
                result = "ok"
            except RateLimited:
                result = "refused"
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["ok", "ok", "refused", "refused", "refused", "refused"]
    assert GenerationJob.objects.filter(owner=user).count() == 2


# --- execution ---------------------------------------------------------------------------------------


def test_run_job_fills_the_items_once_and_never_runs_a_finished_job(f222):
    user = UserFactory()
    job = schedule(f222, owner=user, batch_size=2)
    done = jobs.run_job(job_id=job.pk)
    assert (done.status, done.attempts, done.progress) == ("completed", 1, 1.0)
    items = list(job_items(done))
    assert [item.status for item in items] == ["completed", "completed"]
    assert [item.seed for item in items] == [1, 2] and [item.subseed for item in items] == [2, 3]
    assert len({item.batch_id for item in items}) == 1
    files = FileObject.objects.count()
    assert files == 4  # an image and a thumbnail per item

    again = jobs.run_job(job_id=job.pk)
    assert (again.status, again.attempts) == ("completed", 1)
    assert FileObject.objects.count() == files
    assert Item.all_objects.filter(generation_id=str(job.pk)).count() == 2
    assert [e["itemId"] for e in done.output_files] == [str(item.pk) for item in items]


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_job_run_it_once(f222):
    job = schedule(f222, owner=UserFactory())
    barrier = threading.Barrier(4, timeout=30)
    attempts = []

    def race():
        try:
            barrier.wait()
            attempts.append(jobs.run_job(job_id=job.pk).attempts)
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("completed", 1)
    assert Item.objects.filter(generation_id=str(job.pk), status="completed").count() == 1
    assert FileObject.objects.filter(pk__startswith=f"t2i-{job.pk}").count() == 2


def test_premium_jobs_start_before_earlier_free_jobs_of_the_same_model(f222):
    set_limits(f222, tier0=5, tier1=5, tier2=5)
    free, premium = UserFactory(), UserFactory()
    subscribe(premium, 1)
    first_free = schedule(f222, owner=free, prompt="free one")
    second_free = schedule(f222, owner=free, prompt="free two")
    first_premium = schedule(f222, owner=premium, prompt="premium one")
    second_premium = schedule(f222, owner=premium, prompt="premium two")
    assert [queue_position(job) for job in (first_free, second_free, first_premium, second_premium)] == [3, 4, 1, 2]

    # Whichever message arrives first, the next job to start is the premium one.
    started = [jobs.run_next_job(job_id=first_free.pk).job.pk for _ in range(4)]
    assert started == [first_premium.pk, second_premium.pk, first_free.pk, second_free.pk]
    assert jobs.run_next_job(job_id=first_free.pk).job is None


def test_queue_position_counts_only_the_same_model(f222, model3):
    user, other = UserFactory(), UserFactory()
    image = schedule(f222, owner=user)
    schedule(model3, owner=other)
    later = schedule(f222, owner=other)
    assert (queue_position(image), queue_position(later)) == (1, 2)
    jobs.run_job(job_id=image.pk)
    later.refresh_from_db()
    assert queue_position(later) == 1
    assert queue_position(GenerationJob.objects.get(pk=image.pk)) is None


def test_a_provider_failure_ends_the_job_failed_with_its_message(f222):
    f222.provider = "a1111"
    f222.provider_config = {}  # no server configured
    f222.save()
    job = jobs.run_job(job_id=schedule(f222, owner=UserFactory()).pk)
    assert job.status == "failed"
    assert job.error_message == "The provider has no valid base_url configured (got '')."
    item = Item.all_objects.get(generation_id=str(job.pk))
    assert (item.status, item.is_deleted) == ("failed", True)


def test_transient_failures_are_retried_then_given_up(f222, settings):
    from .engine_support import closed_port

    settings.GENERATION_JOB_MAX_ATTEMPTS = 2
    f222.provider = "a1111"
    f222.provider_config = {"base_url": f"http://127.0.0.1:{closed_port()}", "timeout": 2}
    f222.save()
    job = schedule(f222, owner=UserFactory())
    first = jobs.run_job(job_id=job.pk)
    assert (first.status, first.attempts) == ("queued", 1)
    assert "retrying" in first.log[-1]
    second = jobs.run_job(job_id=job.pk)
    assert (second.status, second.attempts) == ("failed", 2)
    assert second.error_message.startswith("The AUTOMATIC1111 server cannot be reached")


def test_a_vanished_model_fails_the_job(f222):
    job = schedule(f222, owner=UserFactory())
    GenerationJob.objects.filter(pk=job.pk).update(model_id="gone")
    done = jobs.run_job(job_id=job.pk)
    assert (done.status, done.error_message) == ("failed", "The model gone no longer exists.")


# --- cancel and retry --------------------------------------------------------------------------------


def test_cancel_stops_a_queued_job_and_a_cancelled_job_never_runs(f222):
    job = schedule(f222, owner=UserFactory())
    cancelled = jobs.cancel_job(job=job)
    assert (cancelled.status, cancelled.error_message) == ("cancelled", "The generation was cancelled.")
    assert jobs.run_job(job_id=job.pk).status == "cancelled"
    assert not FileObject.objects.exists()


def test_a_run_cancelled_meanwhile_keeps_nothing(f222):
    job = schedule(f222, owner=UserFactory())
    token = "a-run"
    assert jobs._claim(job.pk, token)
    jobs.cancel_job(job=job)
    result = jobs._execute(job.pk, token)
    assert result.status == "cancelled"
    assert not FileObject.objects.exists()
    assert Item.all_objects.get(generation_id=str(job.pk)).status == "failed"


def test_retry_queues_a_failed_job_again(f222):
    job = schedule(f222, owner=UserFactory())
    jobs.cancel_job(job=job)
    again = jobs.retry_job(job=job)
    assert (again.status, again.attempts, again.error_message) == ("queued", 0, "")
    item = Item.objects.get(generation_id=str(job.pk))
    assert item.status == "queued"
    assert jobs.run_job(job_id=job.pk).status == "completed"
    with pytest.raises(InvalidInput):
        jobs.retry_job(job=job)


# --- the reaper --------------------------------------------------------------------------------------


def test_a_run_whose_lease_expired_is_queued_again_and_then_completes_once(f222):
    job = schedule(f222, owner=UserFactory())
    assert jobs._claim(job.pk, "dead-worker")
    GenerationJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    result = jobs.reap_jobs()
    assert result.as_dict() == {"requeued": 1, "timed_out": 0, "abandoned": 0, "not_taken": 0}
    done = jobs.run_job(job_id=job.pk)
    assert (done.status, done.attempts) == ("completed", 2)
    assert Item.objects.filter(generation_id=str(job.pk), status="completed").count() == 1


def test_the_messages_own_lost_job_is_taken_again(f222):
    job = schedule(f222, owner=UserFactory())
    assert jobs._claim(job.pk, "dead-worker")
    still_held = jobs.run_next_job(job_id=job.pk)
    assert still_held.job is None and 0 < still_held.retry_in <= jobs.lease_seconds() + 1
    GenerationJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert jobs.run_next_job(job_id=job.pk).job.status == "completed"


def test_a_job_interrupted_too_often_is_given_up(f222, settings):
    settings.GENERATION_JOB_MAX_ATTEMPTS = 1
    job = schedule(f222, owner=UserFactory())
    assert jobs._claim(job.pk, "dead-worker")
    GenerationJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert jobs.reap_jobs().as_dict()["abandoned"] == 1
    job.refresh_from_db()
    assert (job.status, job.error_message) == (
        "failed",
        "The generation was interrupted 1 times and was given up. Try again later.",
    )


def test_runs_past_their_time_limit_and_jobs_never_taken_fail(f222, settings):
    settings.GENERATION_JOB_TIMEOUT = 60
    settings.GENERATION_QUEUED_TIMEOUT = 3600
    user = UserFactory()
    set_limits(f222, tier0=3)
    long_run = schedule(f222, owner=user)
    forgotten = schedule(f222, owner=user)
    fresh = schedule(f222, owner=user)
    assert jobs._claim(long_run.pk, "slow-worker")
    GenerationJob.objects.filter(pk=long_run.pk).update(started_at=timezone.now() - timedelta(seconds=61))
    GenerationJob.objects.filter(pk=forgotten.pk).update(queued_at=timezone.now() - timedelta(hours=2))
    call_command("reap_jobs", stdout=open("/dev/null", "w"))  # noqa: SIM115 - the command prints
    statuses = dict(GenerationJob.objects.values_list("pk", "status"))
    assert statuses == {long_run.pk: "failed", forgotten.pk: "failed", fresh.pk: "queued"}
    assert GenerationJob.objects.get(pk=long_run.pk).error_message == (
        "The generation took longer than 60 seconds and was stopped."
    )
    assert GenerationJob.objects.get(pk=forgotten.pk).error_message == (
        "No worker took this generation in time. Try again later."
    )


def test_the_reaper_is_on_the_beat_schedule():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["text2image-reap-generation-jobs"]
    assert entry["task"] == "apps.text2image.tasks.reap_generation_jobs"
    from apps.text2image.tasks import reap_generation_jobs

    assert reap_generation_jobs.name == entry["task"]


# --- flagged prompts ---------------------------------------------------------------------------------


def test_a_flagged_prompt_sends_the_moderation_signal_once_with_the_items(f222, django_capture_on_commit_callbacks):
    terms = policy.save_term_list(name="weapons", terms=["gun*", "knife"])
    policy.save_rule(name="weapons for review", action="flag", term_lists=[terms])
    received = []

    def listener(sender, **kwargs):
        received.append(kwargs)

    generation_flagged.connect(listener)
    try:
        user = UserFactory()
        job = schedule(f222, owner=user, prompt="a cowboy with two guns", batch_size=2)
        assert job.flagged_terms == ["gun*"]
        with django_capture_on_commit_callbacks(execute=True):
            jobs.run_job(job_id=job.pk)
        with django_capture_on_commit_callbacks(execute=True):
            jobs.run_job(job_id=job.pk)
    finally:
        generation_flagged.disconnect(listener)
    assert len(received) == 1
    signal = received[0]
    assert signal["terms"] == ["gun*"]
    assert (signal["prompt"], signal["filtered_prompt"]) == ("a cowboy with two guns", "a cowboy with two guns")
    assert [item.pk for item in signal["items"]] == [item.pk for item in job_items(job)]
    assert all(item.owner == user and not item.is_deleted for item in signal["items"])


@override_settings(GENERATION_MAX_BATCH_SIZE=2)
def test_the_batch_size_is_bounded(f222):
    with pytest.raises(InvalidInput):
        schedule(f222, owner=UserFactory(), batch_size=3)


def test_a_worker_on_the_default_queue_also_takes_the_model_queues(f222, model3, settings):
    from types import SimpleNamespace

    from celery import Celery

    from apps.text2image.tasks.generation import _consume_generation_queues

    app = Celery("queues-test", set_as_current=False)
    app.amqp.queues.select(["celery"])
    _consume_generation_queues(sender="w", instance=SimpleNamespace(app=app), conf=app.conf)
    assert set(app.amqp.queues.consume_from) == {
        "celery",
        "t2i-f222",
        "t2i-f222-p1-",
        "t2i-model3",
        "t2i-model3-p1-",
    }

    dedicated = Celery("dedicated-test", set_as_current=False)
    dedicated.amqp.queues.select(["gpu-only"])
    _consume_generation_queues(sender="w", instance=SimpleNamespace(app=dedicated), conf=dedicated.conf)
    assert set(dedicated.amqp.queues.consume_from) == {"gpu-only"}

    settings.GENERATION_WORKER_AUTO_QUEUES = False
    off = Celery("off-test", set_as_current=False)
    off.amqp.queues.select(["celery"])
    _consume_generation_queues(sender="w", instance=SimpleNamespace(app=off), conf=off.conf)
    assert set(off.amqp.queues.consume_from) == {"celery"}


def test_a_model_whose_provider_cannot_load_is_unavailable(f222, settings):
    from apps.core.errors import ServiceUnavailable

    settings.GENERATION_PROVIDERS = {"procedural": "apps.text2image.providers.nowhere.Gone"}
    with pytest.raises(ServiceUnavailable) as refused:
        schedule(f222, owner=UserFactory())
    assert refused.value.message.startswith("The model F222 cannot run on this server: The procedural provider")
    assert not GenerationJob.objects.exists()
