"""The prompt policy: term lists and the rules that ignore, block or flag prompts.

A ``PolicyTermList`` is a named list of terms, one per line (a word, a phrase of several words, or a
word ending in ``*`` for every word that starts so). A ``PolicyRule`` names an action and one or
more term lists; it applies when *every* one of its lists has a term in the prompt. So a block rule
over "sexual" and "minors" refuses only the combination, while a rule over one list acts on any of
its terms. Matching ignores case and accents and takes whole words only
(``services.policy``).
"""

from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel

__all__ = ["PolicyRule", "PolicyTermList"]


class PolicyTermList(BaseModel):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    terms = models.TextField(
        blank=True,
        help_text="One term per line: a word, a phrase, or a word ending in * (prefix). Lines starting with # "
        "are comments. Case and accents do not matter.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "prompt policy term list"

    def __str__(self):
        return self.name

    @property
    def term_list(self) -> list[str]:
        """The terms as written (blank lines and comments left out)."""
        lines = (line.strip() for line in (self.terms or "").splitlines())
        return [line for line in lines if line and not line.startswith("#")]


class PolicyRule(BaseModel):
    class Action(models.TextChoices):
        IGNORE = "ignore", "Ignore (remove the words from the prompt)"
        BLOCK = "block", "Block (refuse the request)"
        FLAG = "flag", "Flag for review (a system report)"

    name = models.CharField(max_length=100, unique=True)
    action = models.CharField(max_length=6, choices=Action.choices)
    term_lists = models.ManyToManyField(
        PolicyTermList,
        related_name="rules",
        help_text="The rule applies when every one of these lists has a term in the prompt.",
    )
    message = models.CharField(
        max_length=300,
        blank=True,
        help_text="Block rules: what the user is told (a default message is used when empty).",
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["action", "name"]
        verbose_name = "prompt policy rule"
        constraints = [
            models.CheckConstraint(condition=Q(action__in=["ignore", "block", "flag"]), name="policy_rule_action_known")
        ]

    def __str__(self):
        return f"{self.get_action_display()}: {self.name}"
