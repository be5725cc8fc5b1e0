from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import AtelierError
from apps.text2image.services import catalogue


class Command(BaseCommand):
    help = (
        "Create or update generation models from a JSON file (a list of AIMG Model objects with the "
        "engine's keys: provider, providerConfig, enabled, position, ...). Without FILE, the shipped "
        "catalogue (f222, model3, and disabled ComfyUI and A1111 examples). Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="JSON file of models (default: the shipped catalogue)")

    def handle(self, *args, file=None, **options):
        try:
            result = catalogue.load_models_file(file) if file else catalogue.load_default_models()
        except AtelierError as exc:
            raise CommandError(exc.message) from exc
        for label, ids in (("Created", result.created), ("Updated", result.updated), ("Unchanged", result.unchanged)):
            if ids:
                self.stdout.write(f"{label}: {', '.join(ids)}")
        self.stdout.write(
            f"{len(result.created)} created, {len(result.updated)} updated, {len(result.unchanged)} unchanged."
        )
