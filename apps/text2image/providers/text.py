"""Text providers for the OCS textprocessing API, and which one serves each task type.

Two providers exist:

- ``openai`` (``text_openai.py``): any OpenAI-compatible chat-completions server, configured by
  ``OCS_TEXT_OPENAI_BASE_URL`` / ``_MODEL`` / ``_API_KEY``. A language model, so it serves all four
  Nextcloud task types, free prompts included.
- ``embedded`` (this module): no model and no external service. It serves Summary, Headline and
  Topics with classic statistics, not with a language model: YAKE keyword extraction (the ``yake``
  package) ranks the key phrases of the text; Topics are the best of them, a Summary is the text's
  highest-scoring sentences (by the key phrases they contain) in their original order, and a
  Headline is the best sentence cut to headline length. It is deterministic: the same text always
  gives the same output. It cannot answer free prompts, so FreePrompt is offered only when a
  language-model provider is configured.

A language model, when configured, is preferred for every type it serves.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from functools import lru_cache

from django.conf import settings

from ..models.ocs import TextTaskType
from .base import ProviderError

# The order Nextcloud lists its task types in.
TASK_TYPE_ORDER = (TextTaskType.FREE_PROMPT, TextTaskType.SUMMARY, TextTaskType.HEADLINE, TextTaskType.TOPICS)

# Nextcloud's names and descriptions of the task types (core's l10n source strings).
TASK_TYPE_TEXTS = {
    TextTaskType.FREE_PROMPT: ("Free prompt", "Runs an arbitrary prompt through the language model."),
    TextTaskType.SUMMARY: ("Summarize", "Summarizes text by reducing its length without losing key information."),
    TextTaskType.HEADLINE: ("Generate headline", "Generates a possible headline for a text."),
    TextTaskType.TOPICS: ("Extract topics", "Extracts topics from a text and outputs them separated by commas."),
}


class TextProvider(ABC):
    name: str = ""
    task_types: frozenset[str] = frozenset()

    def is_available(self) -> bool:
        return True

    @abstractmethod
    def expected_runtime(self, task_type: str, text: str) -> float:
        """Seconds the task is expected to take (inline execution, ``completionExpectedAt``)."""

    @abstractmethod
    def process(self, task_type: str, text: str) -> str:
        """The task's output; raises ``ProviderError`` (``transient`` when worth retrying)."""


# --- the embedded provider ---------------------------------------------------------------------

APOSTROPHES = "'\u2019"
DASHES = "-\u2013\u2014"  # hyphen, en dash, em dash
_WORD = re.compile(rf"\w+(?:[{APOSTROPHES}-]\w+)*", re.UNICODE)
_CLAUSE_END = re.compile(rf"[,;:\u2013\u2014]\s|\s[{DASHES}]\s")
HEADLINE_MAX_WORDS = 12
SUMMARY_SHARE = 0.3  # of the sentences, at least one
SUMMARY_MAX_SENTENCES = 7
TOPIC_COUNT = 5


def sentences_of(text: str) -> list[str]:
    """The text's sentences (segtok, which YAKE uses too), paragraphs and lines kept apart."""
    from segtok.segmenter import split_multi

    return [sentence.strip() for sentence in split_multi(text) if _WORD.search(sentence)]


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


class EmbeddedTextProvider(TextProvider):
    """Summary, Headline and Topics by keyword statistics (YAKE); no model, no network."""

    name = "embedded"
    task_types = frozenset({TextTaskType.SUMMARY, TextTaskType.HEADLINE, TextTaskType.TOPICS})

    def __init__(self, *, language: str = "en"):
        self.language = language

    def expected_runtime(self, task_type: str, text: str) -> float:
        # Measured on one busy core: 0.1-0.3 s for a few thousand characters, 2-3 s for 64,000
        # (YAKE's keyword extraction dominates).
        return 0.2 + len(text) / 30_000

    def key_phrases(self, text: str, *, max_words: int, top: int) -> list[tuple[str, float]]:
        """(phrase, weight) best first; weight in (0, 1], the best phrase 1."""
        import yake

        extractor = yake.KeywordExtractor(lan=self.language, n=max_words, dedupLim=0.7, top=top)
        found = extractor.extract_keywords(text)
        if not found:
            return []
        return [(phrase, (len(found) - rank) / len(found)) for rank, (phrase, _score) in enumerate(found)]

    def _scored_sentences(self, text: str) -> list[tuple[float, int, str]]:
        """(score, position, sentence) for every sentence: the weights of the key phrases it holds,
        damped by its length so that long sentences do not win by size alone."""
        sentences = sentences_of(text)
        phrases = self.key_phrases(text, max_words=3, top=30)
        scored = []
        for position, sentence in enumerate(sentences):
            lowered = sentence.lower()
            gain = sum(weight for phrase, weight in phrases if phrase.lower() in lowered)
            scored.append((gain / math.sqrt(max(len(_words(sentence)), 1)), position, sentence))
        return scored

    def summary(self, text: str) -> str:
        scored = self._scored_sentences(text)
        if not scored:
            raise ProviderError("The text has no sentences to summarize.")
        keep = min(SUMMARY_MAX_SENTENCES, max(1, math.ceil(len(scored) * SUMMARY_SHARE)))
        best = sorted(scored, key=lambda row: (-row[0], row[1]))[:keep]
        return " ".join(sentence for _score, _position, sentence in sorted(best, key=lambda row: row[1]))

    def headline(self, text: str) -> str:
        scored = self._scored_sentences(text)
        if not scored:
            raise ProviderError("The text has no sentence to make a headline from.")
        _score, _position, sentence = min(scored, key=lambda row: (-row[0], row[1]))
        clause = _CLAUSE_END.split(sentence, maxsplit=1)[0]
        if len(_words(clause)) >= 3:
            sentence = clause
        words = sentence.split()
        if len(_words(sentence)) > HEADLINE_MAX_WORDS:
            kept, count = [], 0
            for word in words:
                count += len(_words(word))
                kept.append(word)
                if count >= HEADLINE_MAX_WORDS:
                    break
            return " ".join(kept).rstrip(" ,;:." + DASHES) + "\u2026"
        return " ".join(words).rstrip(" ,;:.!?" + DASHES)

    def topics(self, text: str) -> str:
        chosen: list[str] = []
        for phrase, _weight in self.key_phrases(text, max_words=2, top=TOPIC_COUNT * 3):
            lowered = phrase.lower()
            if any(lowered in other.lower() or other.lower() in lowered for other in chosen):
                continue
            chosen.append(phrase)
            if len(chosen) == TOPIC_COUNT:
                break
        if not chosen:
            raise ProviderError("The text is too short to extract topics from.")
        return ", ".join(chosen)

    def process(self, task_type: str, text: str) -> str:
        if task_type == TextTaskType.SUMMARY:
            return self.summary(text)
        if task_type == TextTaskType.HEADLINE:
            return self.headline(text)
        if task_type == TextTaskType.TOPICS:
            return self.topics(text)
        raise ProviderError("The built-in text provider has no language model: it cannot answer free prompts.")


# --- which provider serves what ------------------------------------------------------------------


@lru_cache(maxsize=1)
def _yake_installed() -> bool:
    try:
        import yake  # noqa: F401
    except ImportError:
        return False
    return True


def configured_providers() -> list[TextProvider]:
    """The configured text providers, preferred first: a language model, then the embedded one."""
    from .text_openai import OpenAIChatTextProvider

    providers: list[TextProvider] = []
    if getattr(settings, "OCS_TEXT_OPENAI_BASE_URL", ""):
        providers.append(OpenAIChatTextProvider.from_settings())
    if getattr(settings, "OCS_TEXT_EMBEDDED_ENABLED", True) and _yake_installed():
        providers.append(EmbeddedTextProvider(language=getattr(settings, "OCS_TEXT_LANGUAGE", "en")))
    return providers


def provider_for(task_type: str) -> TextProvider | None:
    """The provider that takes tasks of ``task_type`` now; None when no available provider serves it."""
    for provider in configured_providers():
        if task_type in provider.task_types and provider.is_available():
            return provider
    return None


def provider_named(name: str) -> TextProvider | None:
    for provider in configured_providers():
        if provider.name == name:
            return provider
    return None


def available_task_types() -> list[str]:
    """The task types some available provider serves, in Nextcloud's order."""
    served: set[str] = set()
    for provider in configured_providers():
        if provider.is_available():
            served |= provider.task_types
    return [task_type.value for task_type in TASK_TYPE_ORDER if task_type in served]
