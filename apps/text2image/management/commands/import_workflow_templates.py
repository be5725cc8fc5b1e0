import json
import sys

from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import AtelierError, InvalidInput
from apps.text2image.services import workflows as services


def describe(exc: AtelierError) -> str:
    if isinstance(exc, InvalidInput) and exc.errors:
        lines = [exc.message]
        for path, messages in exc.errors.items():
            where = ".".join(str(part) for part in path)
            for message in [messages] if isinstance(messages, str) else messages:
                lines.append(f"  {where}: {message}")
        return "\n".join(lines)
    return exc.message


class Command(BaseCommand):
    help = (
        "Create or update API2 workflow templates and file groups from a JSON file (the format "
        "export_workflow_templates writes; '-' reads standard input). Templates and groups are matched "
        "by name; importing the same file again changes nothing. Each template is validated."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON file, or - for standard input")

    def handle(self, *args, file, **options):
        try:
            if file == "-":
                document = json.load(sys.stdin)
            else:
                with open(file, encoding="utf-8") as handle:
                    document = json.load(handle)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise CommandError(f"{file} is not valid JSON: {exc}") from exc
        try:
            report = services.import_templates(document=document)
        except AtelierError as exc:
            raise CommandError(describe(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)
