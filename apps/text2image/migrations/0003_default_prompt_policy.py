"""The conservative default prompt policy: sexual content combined with minors is refused.

Staff edit the lists and rules in the back office; this migration only creates what is missing.
"""

from django.db import migrations

AGES = [str(age) for age in range(1, 18)]

SEXUAL = [
    "sex",
    "sexy",
    "sexual*",
    "nude",
    "nudes",
    "nudity",
    "naked",
    "nsfw",
    "porn*",
    "xxx",
    "erotic*",
    "lewd",
    "topless",
    "bottomless",
    "genital*",
    "penis",
    "vagina*",
    "pussy",
    "breasts",
    "boob",
    "boobs",
    "tits",
    "nipple*",
    "orgasm*",
    "intercourse",
    "masturbat*",
    "fellatio",
    "blowjob*",
    "cunnilingus",
    "hentai",
    "undress*",
    "lingerie",
    "underwear",
    "panties",
    "bikini",
    "seductive",
    "sensual",
    "fetish*",
    "bdsm",
    "bondage",
    "stripper*",
    "striptease",
    "stripping",
    "cum",
    "cumshot*",
    "aroused",
    "spread legs",
    "provocative pose",
    "sexualized",
    "onlyfans",
]
MINORS = [
    "child",
    "children",
    "childlike",
    "child-like",
    "kid",
    "kids",
    "kiddie",
    "minor",
    "minors",
    "underage*",
    "under age",
    "teen",
    "teens",
    "teenage*",
    "preteen*",
    "pre teen*",
    "tween*",
    "toddler*",
    "infant*",
    "baby",
    "babies",
    "little girl*",
    "little boy*",
    "young girl*",
    "young boy*",
    "schoolgirl*",
    "schoolboy*",
    "school girl*",
    "school boy*",
    "elementary school*",
    "middle school*",
    "kindergarten*",
    "loli*",
    "shota*",
    "juvenile*",
    "prepubescent",
    "pubescent",
    "girl child",
    "boy child",
    *[f"{age} year old" for age in AGES],
    *[f"{age} years old" for age in AGES],
    *[f"{age} yo" for age in AGES],
    *[f"{age}yo" for age in AGES],
    *[f"age {age}" for age in AGES],
    *[f"aged {age}" for age in AGES],
]
ABUSE_MATERIAL = [
    "csam",
    "child porn*",
    "childporn*",
    "pedophil*",
    "paedophil*",
    "pedo",
    "pedos",
    "lolicon",
    "shotacon",
    "jailbait",
    "cheese pizza",
]

LISTS = {
    "sexual content": ("Words and phrases of sexual content.", SEXUAL),
    "minors": ("Words and phrases that describe children and adolescents.", MINORS),
    "child abuse material": ("Terms that by themselves ask for sexual material of minors.", ABUSE_MATERIAL),
}
RULES = [
    (
        "sexual content with minors",
        ["sexual content", "minors"],
        "Prompts that combine sexual content with minors are refused.",
    ),
    ("child abuse material", ["child abuse material"], "This prompt asks for material that is refused."),
]


def create_defaults(apps, schema_editor):
    PolicyTermList = apps.get_model("text2image", "PolicyTermList")
    PolicyRule = apps.get_model("text2image", "PolicyRule")
    for name, (description, terms) in LISTS.items():
        PolicyTermList.objects.get_or_create(
            name=name, defaults={"description": description, "terms": "\n".join(terms)}
        )
    for name, list_names, message in RULES:
        rule, created = PolicyRule.objects.get_or_create(
            name=name, defaults={"action": "block", "message": message, "enabled": True}
        )
        if created:
            rule.term_lists.set(PolicyTermList.objects.filter(name__in=list_names))


class Migration(migrations.Migration):
    dependencies = [("text2image", "0002_generationmodel_policyrule_policytermlist_and_more")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
