"""Textprocessing through an OpenAI-compatible chat-completions server (OpenAI, LocalAI, Ollama,
vLLM, LM Studio, ...): ``POST {base_url}/chat/completions``.

Configured by ``OCS_TEXT_OPENAI_BASE_URL`` (e.g. ``https://api.openai.com/v1``), ``_MODEL``,
``_API_KEY`` (sent as a bearer token when set), ``_TIMEOUT`` and ``_EXPECTED_SECONDS`` (the runtime
announced in ``completionExpectedAt`` and compared with the inline budget).
"""

from __future__ import annotations

from django.conf import settings

from ..models.ocs import TextTaskType
from .base import ProviderError
from .http import HttpClient
from .text import TextProvider

# What the model is asked to do with the text, per task type (FreePrompt sends the text alone).
INSTRUCTIONS = {
    TextTaskType.SUMMARY: (
        "Summarize the text the user sends, reducing its length without losing key information. "
        "Answer with the summary only, in the language of the text."
    ),
    TextTaskType.HEADLINE: (
        "Write one short headline for the text the user sends. "
        "Answer with the headline only, without quotes, in the language of the text."
    ),
    TextTaskType.TOPICS: (
        "Extract the main topics of the text the user sends. "
        "Answer with the topics only, separated by commas, in the language of the text."
    ),
}
MAX_RESPONSE_BYTES = 4 * 1024 * 1024


class OpenAIChatTextProvider(TextProvider):
    name = "openai"
    task_types = frozenset(TextTaskType.values)

    def __init__(
        self, *, base_url: str, model: str, api_key: str = "", timeout: float = 120.0, expected_seconds: float = 30.0
    ):
        self.base_url = base_url
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.expected_seconds = expected_seconds

    @classmethod
    def from_settings(cls) -> OpenAIChatTextProvider:
        return cls(
            base_url=settings.OCS_TEXT_OPENAI_BASE_URL,
            model=settings.OCS_TEXT_OPENAI_MODEL,
            api_key=settings.OCS_TEXT_OPENAI_API_KEY,
            timeout=settings.OCS_TEXT_OPENAI_TIMEOUT,
            expected_seconds=settings.OCS_TEXT_OPENAI_EXPECTED_SECONDS,
        )

    def is_available(self) -> bool:
        return bool(self.base_url and self.model)

    def expected_runtime(self, task_type: str, text: str) -> float:
        return self.expected_seconds

    def messages(self, task_type: str, text: str) -> list[dict]:
        if task_type == TextTaskType.FREE_PROMPT:
            return [{"role": "user", "content": text}]
        if task_type not in INSTRUCTIONS:
            raise ProviderError(f"The language model provider does not know the task type {task_type}.")
        return [{"role": "system", "content": INSTRUCTIONS[task_type]}, {"role": "user", "content": text}]

    def process(self, task_type: str, text: str) -> str:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        client = HttpClient(
            self.base_url,
            timeout=self.timeout,
            headers=headers,
            max_bytes=MAX_RESPONSE_BYTES,
            server_name="the language model server",
        )
        answer = client.post_json("chat/completions", {"model": self.model, "messages": self.messages(task_type, text)})
        try:
            content = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ProviderError("The language model server sent an answer without a message.") from exc
        if not isinstance(content, str):
            raise ProviderError("The language model server sent an answer without text.")
        return content.strip()
