"""The text providers of the textprocessing API: the built-in one (YAKE keyword statistics, no
model) and the OpenAI-compatible chat-completions one, tested against a fake server this test
starts; and how a textprocessing task runs (once, retried on transient failures)."""

import pytest

from apps.text2image.models import OcsTaskStatus, TextProcessingTask
from apps.text2image.providers.base import ProviderError
from apps.text2image.providers.text import (
    EmbeddedTextProvider,
    available_task_types,
    provider_for,
    sentences_of,
)
from apps.text2image.providers.text_openai import OpenAIChatTextProvider
from apps.text2image.selectors.ocs import Requester
from apps.text2image.services import ocs as services
from apps.text2image.tasks.ocs import run_textprocessing_task
from tests.text2image.ocs.support import (
    ARTICLE,
    FREE_PROMPT,
    HEADLINE,
    SUMMARY,
    TOPICS,
    completion,
    fake_language_model,
)

EMBEDDED = EmbeddedTextProvider(language="en")


# --- the built-in provider -------------------------------------------------------------------------


def test_sentences_are_split_like_yake_does():
    assert sentences_of("Dr. Smith went home. It rained!\n\nNew paragraph without a stop") == [
        "Dr. Smith went home.",
        "It rained!",
        "New paragraph without a stop",
    ]


def test_topics_are_the_texts_key_phrases_separated_by_commas():
    topics = EMBEDDED.process(TOPICS, ARTICLE).split(", ")
    assert 2 <= len(topics) <= 5
    assert len({topic.lower() for topic in topics}) == len(topics)
    for topic in topics:
        assert topic.lower() in ARTICLE.lower()
    assert any("librar" in topic.lower() for topic in topics)


def test_the_summary_keeps_the_most_telling_sentences_in_order():
    sentences = sentences_of(ARTICLE)
    summary = EMBEDDED.process(SUMMARY, ARTICLE)
    kept = [sentence for sentence in sentences if sentence in summary]
    assert summary == " ".join(kept)
    assert len(kept) == 2  # 30 % of 6 sentences, rounded up
    assert "library" in summary.lower() or "libraries" in summary.lower()


def test_a_one_sentence_text_is_its_own_summary():
    assert EMBEDDED.process(SUMMARY, "Foxes are small omnivores.") == "Foxes are small omnivores."


def test_the_headline_is_a_cut_down_sentence():
    headline = EMBEDDED.process(HEADLINE, ARTICLE)
    assert headline in ARTICLE
    assert 3 <= len(headline.split()) <= 12
    long = (
        "Researchers at the northern coastal observatory measured unusually strong tides across the whole bay "
        "during the autumn storms this year. Tides matter."
    )
    cut = EMBEDDED.process(HEADLINE, long)
    assert cut.endswith("\u2026") and len(cut.split()) == 12


def test_the_built_in_provider_is_deterministic():
    for task_type in (SUMMARY, HEADLINE, TOPICS):
        assert EMBEDDED.process(task_type, ARTICLE) == EMBEDDED.process(task_type, ARTICLE)


def test_the_built_in_provider_has_no_language_model():
    with pytest.raises(ProviderError, match="cannot answer free prompts"):
        EMBEDDED.process(FREE_PROMPT, "Tell me a joke.")
    assert FREE_PROMPT not in EMBEDDED.task_types


def test_empty_texts_fail_with_a_message():
    for task_type, message in (
        (SUMMARY, "no sentences to summarize"),
        (HEADLINE, "no sentence to make a headline"),
        (TOPICS, "too short to extract topics"),
    ):
        with pytest.raises(ProviderError, match=message):
            EMBEDDED.process(task_type, "  ...  ")


def test_which_provider_serves_what(settings):
    settings.OCS_TEXT_OPENAI_BASE_URL = ""
    assert available_task_types() == [SUMMARY, HEADLINE, TOPICS]
    assert provider_for(FREE_PROMPT) is None
    assert provider_for(SUMMARY).name == "embedded"
    settings.OCS_TEXT_OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    assert available_task_types() == [FREE_PROMPT, SUMMARY, HEADLINE, TOPICS]
    assert {provider_for(task_type).name for task_type in available_task_types()} == {"openai"}
    settings.OCS_TEXT_EMBEDDED_ENABLED = False
    settings.OCS_TEXT_OPENAI_BASE_URL = ""
    assert available_task_types() == []


# --- the OpenAI-compatible provider against a fake server -------------------------------------------


def test_each_type_sends_its_instruction_and_the_text():
    with fake_language_model() as fake:
        provider = OpenAIChatTextProvider(base_url=fake.base_url, model="m", api_key="", timeout=5)
        for task_type in (SUMMARY, HEADLINE, TOPICS):
            assert provider.process(task_type, "Some text.") == "echo: Some text."
    bodies = [call["body"] for call in fake.requests]
    assert [body["messages"][1] for body in bodies] == [{"role": "user", "content": "Some text."}] * 3
    instructions = [body["messages"][0]["content"] for body in bodies]
    assert "Summarize" in instructions[0] and "headline" in instructions[1] and "separated by commas" in instructions[2]
    assert all("Authorization" not in call["headers"] for call in fake.requests)  # no key configured


@pytest.mark.parametrize(
    ("status", "answer", "transient", "message"),
    [
        (503, {"error": {"message": "overloaded"}}, True, "The language model server answered HTTP 503: overloaded"),
        (429, {"error": {"message": "slow down"}}, True, "The language model server answered HTTP 429: slow down"),
        (401, {"error": {"message": "bad key"}}, False, "The language model server answered HTTP 401: bad key"),
        (200, {"choices": []}, False, "The language model server sent an answer without a message."),
        (
            200,
            {"choices": [{"message": {"content": None}}]},
            False,
            "The language model server sent an answer without text.",
        ),
    ],
)
def test_errors_of_the_server(status, answer, transient, message):
    with fake_language_model() as fake:
        fake.reply = lambda body: (status, answer)
        provider = OpenAIChatTextProvider(base_url=fake.base_url, model="m", timeout=5)
        with pytest.raises(ProviderError) as caught:
            provider.process(TOPICS, "text")
    assert caught.value.message == message
    assert caught.value.transient is transient


def test_an_unreachable_server_is_a_transient_failure():
    with fake_language_model() as fake:
        base_url = fake.base_url
    provider = OpenAIChatTextProvider(base_url=base_url, model="m", timeout=2)
    with pytest.raises(ProviderError) as caught:
        provider.process(TOPICS, "text")
    assert caught.value.transient
    assert caught.value.message.startswith("The language model server cannot be reached")


# --- running a task -------------------------------------------------------------------------------


@pytest.fixture
def eager_retries():
    """Eager Celery that runs retries: with EAGER_PROPAGATES (the test settings) a retry is raised
    instead of run; a worker runs it after its countdown."""
    from config.celery_app import app

    saved = app.conf["CELERY_TASK_EAGER_PROPAGATES"]
    app.conf.update({"CELERY_TASK_EAGER_PROPAGATES": False})
    yield
    app.conf.update({"CELERY_TASK_EAGER_PROPAGATES": saved})


@pytest.mark.django_db
def test_a_transient_failure_is_retried_by_the_celery_task(
    user, language_model, django_capture_on_commit_callbacks, eager_retries
):
    answers = iter([(503, {"error": {"message": "busy"}}), (503, {"error": {"message": "busy"}})])
    language_model.reply = lambda body: next(answers, (200, completion("A headline")))
    with django_capture_on_commit_callbacks(execute=True):
        task = services.schedule_text_task(
            requester=Requester(user=user), task_type=HEADLINE, text=ARTICLE, app_id="a", inline_budget=0
        )
    # Eager Celery (test settings) ran it on commit: two transient failures, then success.
    task.refresh_from_db()
    assert (task.status, task.output) == (OcsTaskStatus.SUCCESSFUL, "A headline")
    assert len(language_model.requests) == 3


@pytest.mark.django_db
def test_the_last_attempt_ends_the_task_failed(user, language_model, django_capture_on_commit_callbacks, eager_retries):
    language_model.reply = lambda body: (503, {"error": {"message": "busy"}})
    with django_capture_on_commit_callbacks(execute=True):
        task = services.schedule_text_task(
            requester=Requester(user=user), task_type=HEADLINE, text=ARTICLE, app_id="a", inline_budget=0
        )
    task.refresh_from_db()
    assert task.status == OcsTaskStatus.FAILED
    assert task.error_message == "The language model server answered HTTP 503: busy"
    assert len(language_model.requests) == 4  # the first run and three retries


@pytest.mark.django_db
def test_a_task_runs_once_whatever_the_messages(user, language_model, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        task = services.schedule_text_task(
            requester=Requester(user=user), task_type=SUMMARY, text=ARTICLE, app_id="a", inline_budget=0
        )
    assert run_textprocessing_task.delay(task.pk).get() == {"task": task.pk, "status": OcsTaskStatus.SUCCESSFUL}
    assert run_textprocessing_task.delay(task.pk).get() == {"task": task.pk, "status": OcsTaskStatus.SUCCESSFUL}
    assert len(language_model.requests) == 1
    task.refresh_from_db()
    TextProcessingTask.objects.filter(pk=task.pk).delete()
    assert run_textprocessing_task.delay(task.pk).get() == {"task": task.pk, "status": None}


@pytest.mark.django_db
def test_a_task_deleted_while_it_runs_is_not_brought_back(user, monkeypatch, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        task = services.schedule_text_task(
            requester=Requester(user=user), task_type=SUMMARY, text=ARTICLE, app_id="a", inline_budget=0
        )

    def deleted_meanwhile(self, task_type, text):
        services.delete_text_task(task=task)  # the user deletes it while the provider works
        return "too late"

    monkeypatch.setattr(EmbeddedTextProvider, "process", deleted_meanwhile)
    assert services.run_text_task(task_id=task.pk) is None
    assert not TextProcessingTask.objects.filter(pk=task.pk).exists()


@pytest.mark.django_db
def test_an_unexpected_error_fails_the_task_without_details(user, monkeypatch, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        task = services.schedule_text_task(
            requester=Requester(user=user), task_type=TOPICS, text=ARTICLE, app_id="a", inline_budget=0
        )

    def explode(self, task_type, text):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(EmbeddedTextProvider, "process", explode)
    services.run_text_task(task_id=task.pk)
    task.refresh_from_db()
    assert task.status == OcsTaskStatus.FAILED
    assert task.error_message == "The task failed because of an internal error. Try again later."
