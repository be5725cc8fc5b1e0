from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Load demo data, idempotently. Each app that has a ``demo`` module contributes its part "
        "(in INSTALLED_APPS order); running it again changes nothing that is already there."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            for config in apps.get_app_configs():
                if not config.name.startswith("apps."):
                    continue
                try:
                    module = import_module(f"{config.name}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name == f"{config.name}.demo":
                        continue
                    raise
                for line in module.seed():
                    self.stdout.write(f"[{config.label}] {line}")
