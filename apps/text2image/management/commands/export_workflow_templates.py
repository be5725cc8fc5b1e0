import json

from django.core.management.base import BaseCommand, CommandError

from apps.text2image.models import WorkflowTemplate
from apps.text2image.selectors import workflows as selectors


class Command(BaseCommand):
    help = (
        "Write the API2 workflow templates (every live one, or those named) and every file group as "
        "JSON, to standard output or --out FILE. import_workflow_templates reads it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", help="File to write (default: standard output)")
        parser.add_argument("--name", action="append", default=[], help="Only this template (repeatable)")

    def handle(self, *args, out, name, **options):
        templates = WorkflowTemplate.objects.all()
        if name:
            templates = templates.filter(name__in=name)
            missing = sorted(set(name) - set(templates.values_list("name", flat=True)))
            if missing:
                raise CommandError(f"No workflow template named {', '.join(missing)}.")
        document = selectors.export_data(templates)
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        if not out:
            self.stdout.write(text, ending="")
            return
        try:
            with open(out, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc.strerror or exc}") from exc
        count = len(document["workflowTemplates"])
        self.stderr.write(
            f"{count} workflow template(s) and {len(document['fileGroups'])} file group(s) written to {out}"
        )
