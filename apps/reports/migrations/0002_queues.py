"""The queues every site starts with: the default user queue and the two system queues
(``apps.reports.defaults.ensure_queues`` brings them back after every migrate)."""

from django.db import migrations

QUEUES = [
    {
        "name": "Not Specified",
        "kind": "user",
        "is_default": True,
        "position": 0,
        "description": "Reports that name no queue.",
    },
    {
        "name": "Prompt Policy",
        "kind": "prompt_policy",
        "position": 900,
        "description": "Generations whose prompt matched a term the prompt policy flags for review.",
    },
    {
        "name": "Repeat Offenders",
        "kind": "repeat_offender",
        "position": 910,
        "description": "Authors whose accepted reports and prompt-policy flags reached the threshold.",
    },
]


def create_queues(apps, schema_editor):
    ReportQueue = apps.get_model("reports", "ReportQueue")
    for queue in QUEUES:
        if not ReportQueue.objects.filter(name__iexact=queue["name"]).exists():
            ReportQueue.objects.create(**queue)


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [migrations.RunPython(create_queues, migrations.RunPython.noop)]
