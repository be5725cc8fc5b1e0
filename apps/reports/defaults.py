"""The queues every site has: the default user queue and the two system queues.

The data migration ``0002_queues`` creates them the first time; ``ensure_queues`` runs after every
``migrate`` (and ``flush``), so they come back if they were removed. It never changes a queue staff edited.
"""

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


def ensure_queues(sender=None, apps=None, using="default", **kwargs):
    """Create the default and system queues that are missing (by role: default flag or system kind)."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    try:
        ReportQueue = apps.get_model("reports", "ReportQueue")
    except LookupError:
        return
    queues = ReportQueue.objects.using(using)
    for queue in QUEUES:
        present = queues.filter(is_default=True) if queue.get("is_default") else queues.filter(kind=queue["kind"])
        if present.exists():
            continue
        fields = dict(queue)
        if queues.filter(name__iexact=fields["name"]).exists():
            fields["name"] = f"{fields['name']} (system)"
        queues.create(**fields)
