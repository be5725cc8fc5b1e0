"""The prompt policy: which words are ignored, which prompts are refused, which are flagged for review.

Matching is whole-word and insensitive to case and accents: "Écolière" matches the term
"ecoliere", "kid" does not match inside "kidney", and a term ending in ``*`` matches every word that
starts with it ("teen*": "teen", "teens", "teenager"). A term of several words matches those words
in a row, whatever separates them ("high school" matches "high-school").

Ignore rules remove their words from the prompt (and from the negative prompt); the removed words
are reported as ``ignoredWords``. Block rules refuse the request when every one of their term lists
matches the prompt; flag rules mark the job, and a system report is raised when it completes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction

from apps.core.errors import InvalidInput

from ..models import PolicyRule, PolicyTermList

DEFAULT_BLOCK_MESSAGE = (
    "This prompt cannot be used: it asks for content that is not allowed here. Change the prompt and try again."
)
CACHE_KEY = "text2image:policy:v1"
CACHE_SECONDS = 300
_WORD = re.compile(r"\w+", re.UNICODE)


# --- normalisation -----------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case without accents (NFKD, combining marks dropped, case-folded)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class _Token:
    text: str  # folded
    start: int  # span in the original text
    end: int


def _tokens(text: str) -> list[_Token]:
    """The words of ``text``, folded, with their spans in the original string."""
    folded_chars: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        for out in fold(ch):
            folded_chars.append(out)
            origin.append(index)
    folded = "".join(folded_chars)
    tokens = []
    for match in _WORD.finditer(folded):
        start = origin[match.start()]
        end = origin[match.end() - 1] + 1
        tokens.append(_Token(match.group(), start, end))
    return tokens


@dataclass(frozen=True)
class Term:
    """One policy term, compiled: its folded words, the last one possibly a prefix."""

    written: str
    words: tuple[str, ...]
    prefix: bool

    @classmethod
    def parse(cls, written: str) -> Term | None:
        text = written.strip()
        prefix = text.endswith("*")
        words = tuple(_WORD.findall(fold(text.rstrip("*"))))
        if not words:
            return None
        return cls(written=text, words=words, prefix=prefix)

    def matches_at(self, tokens: list[_Token], index: int) -> bool:
        if index + len(self.words) > len(tokens):
            return False
        for offset, word in enumerate(self.words):
            token = tokens[index + offset].text
            last = offset == len(self.words) - 1
            if last and self.prefix:
                if not token.startswith(word):
                    return False
            elif token != word:
                return False
        return True


@dataclass(frozen=True)
class Match:
    term: Term
    start: int  # token index
    length: int


def find(terms: list[Term], tokens: list[_Token]) -> list[Match]:
    """Every occurrence of any term, longest first where two start at the same word."""
    found = []
    ordered = sorted(terms, key=lambda term: -len(term.words))
    for index in range(len(tokens)):
        for term in ordered:
            if term.matches_at(tokens, index):
                found.append(Match(term, index, len(term.words)))
                break
    return found


# --- the rules ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledRule:
    name: str
    action: str
    lists: tuple[tuple[str, tuple[Term, ...]], ...]  # (list name, its terms)
    message: str = ""


def _compile() -> list[CompiledRule]:
    rules = []
    queryset = PolicyRule.objects.filter(enabled=True).prefetch_related("term_lists").order_by("action", "name")
    for rule in queryset:
        lists = []
        for term_list in sorted(rule.term_lists.all(), key=lambda t: t.name):
            terms = tuple(term for term in (Term.parse(line) for line in term_list.term_list) if term)
            lists.append((term_list.name, terms))
        if lists:
            rules.append(CompiledRule(rule.name, rule.action, tuple(lists), rule.message))
    return rules


def compiled_rules() -> list[CompiledRule]:
    """The enabled rules, compiled (cached; any change of a rule or list clears the cache)."""
    rules = cache.get(CACHE_KEY)
    if rules is None:
        rules = _compile()
        cache.set(CACHE_KEY, rules, CACHE_SECONDS)
    return rules


def forget_compiled_rules() -> None:
    transaction.on_commit(lambda: cache.delete(CACHE_KEY))
    cache.delete(CACHE_KEY)


# --- applying the policy -----------------------------------------------------------------------------


@dataclass
class PolicyOutcome:
    prompt: str
    negative_prompt: str
    ignored_words: list[str] = field(default_factory=list)
    flagged_terms: list[str] = field(default_factory=list)
    blocked_by: CompiledRule | None = None

    @property
    def blocked(self) -> bool:
        return self.blocked_by is not None

    @property
    def block_message(self) -> str:
        if self.blocked_by is None:
            return ""
        return self.blocked_by.message or DEFAULT_BLOCK_MESSAGE


def _remove(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` without the spans, the whitespace around each gap collapsed."""
    if not spans:
        return text
    parts, cursor = [], 0
    for start, end in sorted(spans):
        if start < cursor:
            continue
        parts.append(text[cursor:start])
        cursor = end
    parts.append(text[cursor:])
    joined = "".join(parts)
    joined = re.sub(r"[ \t]{2,}", " ", joined)
    joined = re.sub(r"\s+([,.;:!?])", r"\1", joined)
    joined = re.sub(r"([,;:])(\s*[,;:])+", r"\1", joined)
    return joined.strip(" \t,;:")


def _ignore(text: str, terms: list[Term]) -> tuple[str, list[str]]:
    tokens = _tokens(text)
    matches = find(terms, tokens)
    spans, words = [], []
    for match in matches:
        first, last = tokens[match.start], tokens[match.start + match.length - 1]
        spans.append((first.start, last.end))
        words.append(text[first.start : last.end])
    return _remove(text, spans), words


def _all_lists_match(rule: CompiledRule, tokens: list[_Token]) -> list[str] | None:
    """Every matched term (in prompt order) when each list of the rule matches; otherwise None."""
    matched = []
    for _name, terms in rule.lists:
        found = find(list(terms), tokens)
        if not found:
            return None
        matched.extend(match.term.written for match in found if match.term.written not in matched)
    return matched


def evaluate(*, prompt: str, negative_prompt: str = "", rules: list[CompiledRule] | None = None) -> PolicyOutcome:
    """Apply the policy to a prompt pair; never raises (``apply_policy`` refuses blocked prompts)."""
    rules = compiled_rules() if rules is None else rules
    ignore_terms = [
        term for rule in rules if rule.action == PolicyRule.Action.IGNORE for _, t in rule.lists for term in t
    ]
    filtered, ignored = _ignore(prompt, ignore_terms)
    filtered_negative, ignored_negative = _ignore(negative_prompt, ignore_terms)
    outcome = PolicyOutcome(prompt=filtered, negative_prompt=filtered_negative)
    seen = set()
    for word in ignored + ignored_negative:
        key = fold(word)
        if key not in seen:
            seen.add(key)
            outcome.ignored_words.append(word)
    # Block and flag rules read the prompt as written: removing an ignored word must not hide a match.
    tokens = _tokens(prompt)
    for rule in rules:
        if rule.action == PolicyRule.Action.BLOCK and outcome.blocked_by is None:
            if _all_lists_match(rule, tokens) is not None:
                outcome.blocked_by = rule
        elif rule.action == PolicyRule.Action.FLAG:
            matched = _all_lists_match(rule, tokens)
            for term in matched or []:
                if term not in outcome.flagged_terms:
                    outcome.flagged_terms.append(term)
    return outcome


def apply_policy(*, prompt: str, negative_prompt: str = "") -> PolicyOutcome:
    """The policy outcome of a prompt; InvalidInput (400, on ``prompt``) when a block rule refuses it
    or when nothing is left of the prompt once the ignored words are removed."""
    outcome = evaluate(prompt=prompt, negative_prompt=negative_prompt)
    if outcome.blocked:
        raise InvalidInput(outcome.block_message, errors={("prompt",): [outcome.block_message]}, code="prompt_blocked")
    if prompt.strip() and not outcome.prompt.strip():
        message = "Nothing is left of the prompt once the ignored words are removed. Describe what you want to see."
        raise InvalidInput(message, errors={("prompt",): [message]}, code="prompt_empty")
    return outcome


# --- back office writes ------------------------------------------------------------------------------


@transaction.atomic
def save_term_list(*, name: str, terms: list[str] | str, description: str = "") -> PolicyTermList:
    """Create or replace the term list ``name``."""
    text = terms if isinstance(terms, str) else "\n".join(terms)
    term_list, _ = PolicyTermList.objects.update_or_create(
        name=name, defaults={"terms": text, "description": description}
    )
    forget_compiled_rules()
    return term_list


@transaction.atomic
def save_rule(*, name: str, action: str, term_lists: list[PolicyTermList], message: str = "", enabled: bool = True):
    """Create or replace the rule ``name`` over ``term_lists``."""
    if action not in PolicyRule.Action.values:
        raise InvalidInput(f"The action must be one of {', '.join(PolicyRule.Action.values)}.")
    if not term_lists:
        raise InvalidInput("A rule needs at least one term list.")
    rule, _ = PolicyRule.objects.update_or_create(
        name=name, defaults={"action": action, "message": message, "enabled": enabled}
    )
    rule.term_lists.set(term_lists)
    forget_compiled_rules()
    return rule
