"""The prompt policy: whole-word, case- and accent-insensitive matching; ignored words removed and
reported; blocking combinations; flags; the shipped default list; the back office."""

import pytest
from django.contrib.auth.models import Permission

from apps.core.errors import InvalidInput
from apps.text2image.models import PolicyRule, PolicyTermList
from apps.text2image.services import policy
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def rule(name, action, *lists, message=""):
    term_lists = [policy.save_term_list(name=f"{name} {index}", terms=terms) for index, terms in enumerate(lists)]
    return policy.save_rule(name=name, action=action, term_lists=term_lists, message=message)


def clear_defaults():
    PolicyRule.objects.all().delete()
    PolicyTermList.objects.all().delete()
    policy.forget_compiled_rules()


@pytest.fixture
def empty_policy():
    clear_defaults()


# --- matching ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "prompt", "matches"),
    [
        ("fox", "A FOX in the snow", True),
        ("fox", "a foxglove in bloom", False),  # whole words only
        ("fox", "firefox at night", False),
        ("ecoliere", "une écolière", True),  # accents do not matter
        ("écolière", "ECOLIERE", True),
        ("teen*", "teenagers at a party", True),  # a prefix term
        ("teen*", "canteen", False),
        ("high school", "a high-school hallway", True),  # a phrase, whatever separates its words
        ("high school", "a high tower at school", False),
        ("straße", "STRASSE", True),  # case folding
    ],
)
def test_whole_word_case_and_accent_insensitive_matching(empty_policy, term, prompt, matches):
    rule("test", "flag", [term])
    outcome = policy.evaluate(prompt=prompt)
    assert bool(outcome.flagged_terms) is matches


def test_ignored_words_are_removed_from_both_prompts_and_reported(empty_policy):
    rule("noise", "ignore", ["masterpiece", "best quality", "8k"])
    outcome = policy.evaluate(
        prompt="Masterpiece, a fox in the snow, BEST   quality, 8K", negative_prompt="blurry, masterpiece"
    )
    assert outcome.prompt == "a fox in the snow"
    assert outcome.negative_prompt == "blurry"
    assert outcome.ignored_words == ["Masterpiece", "BEST   quality", "8K"]


def test_blocking_needs_every_list_of_the_combination(empty_policy):
    rule("combo", "block", ["sexy"], ["kitten"], message="No.")
    assert not policy.evaluate(prompt="a sexy car").blocked
    assert not policy.evaluate(prompt="a kitten").blocked
    outcome = policy.evaluate(prompt="a SEXY kitten")
    assert outcome.blocked and outcome.block_message == "No."
    with pytest.raises(InvalidInput) as refused:
        policy.apply_policy(prompt="a sexy kitten")
    assert refused.value.message == "No."
    assert refused.value.errors == {("prompt",): ["No."]}


def test_an_ignored_word_cannot_hide_a_blocked_combination(empty_policy):
    rule("noise", "ignore", ["kitten"])
    rule("combo", "block", ["sexy"], ["kitten"])
    assert policy.evaluate(prompt="sexy kitten").blocked


def test_a_prompt_of_ignored_words_only_is_refused(empty_policy):
    rule("noise", "ignore", ["masterpiece"])
    with pytest.raises(InvalidInput) as refused:
        policy.apply_policy(prompt="masterpiece")
    assert refused.value.errors == {
        ("prompt",): [
            "Nothing is left of the prompt once the ignored words are removed. Describe what you want to see."
        ]
    }


def test_flag_rules_report_the_matched_terms_without_refusing(empty_policy):
    rule("weapons", "flag", ["gun*", "knife"])
    outcome = policy.evaluate(prompt="a chef with a knife and a gunslinger")
    assert outcome.flagged_terms == ["knife", "gun*"]
    assert not outcome.blocked
    assert policy.apply_policy(prompt="a knife").flagged_terms == ["knife"]


def test_disabled_rules_and_comment_lines_do_nothing(empty_policy):
    disabled = rule("off", "block", ["fox"])
    PolicyRule.objects.filter(pk=disabled.pk).update(enabled=False)
    policy.forget_compiled_rules()
    assert not policy.evaluate(prompt="fox").blocked
    rule("comments", "block", ["# fox", "", "  wolf  "])
    assert not policy.evaluate(prompt="fox").blocked
    assert policy.evaluate(prompt="WOLF").blocked


def test_changes_apply_at_once(empty_policy):
    assert not policy.evaluate(prompt="fox").blocked
    rule("now", "block", ["fox"])
    assert policy.evaluate(prompt="fox").blocked


# --- the shipped default ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    [
        "naked child",
        "a NUDE schoolgirl",
        "sexy 15 year old",
        "erotic photo of a preteen",
        "lolicon art",
        "nsfw, little girl",
        "porn with a 12yo",
    ],
)
def test_the_default_policy_blocks_sexual_content_with_minors(prompt):
    assert policy.evaluate(prompt=prompt).blocked


@pytest.mark.parametrize(
    "prompt",
    [
        "a child flying a kite in a park",
        "a nude statue in a museum",
        "a sexy sports car",
        "a teenager skateboarding",
        "kids in striped shirts at the beach",
        "a mother breastfeeding her baby",
    ],
)
def test_the_default_policy_lets_each_part_alone_pass(prompt):
    assert not policy.evaluate(prompt=prompt).blocked


# --- the back office ---------------------------------------------------------------------------------


def test_staff_edit_the_lists_in_the_admin_and_it_takes_effect(client):
    staff = StaffFactory()
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="text2image"))
    client.force_login(staff)
    assert client.get("/admin/text2image/policytermlist/").status_code == 200
    assert client.get("/admin/text2image/policyrule/").status_code == 200
    response = client.post(
        "/admin/text2image/policytermlist/add/", {"name": "foxes", "terms": "fox\nvixen", "description": ""}
    )
    assert response.status_code == 302
    assert not policy.evaluate(prompt="a vixen").blocked
    foxes = PolicyTermList.objects.get(name="foxes")
    response = client.post(
        "/admin/text2image/policyrule/add/",
        {"name": "no foxes", "action": "block", "term_lists": [foxes.pk], "message": "No foxes.", "enabled": "on"},
    )
    assert response.status_code == 302
    assert policy.evaluate(prompt="a VIXEN").block_message == "No foxes."
