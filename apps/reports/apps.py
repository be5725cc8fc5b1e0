from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "apps.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import receivers  # noqa: F401
        from .defaults import ensure_queues

        post_migrate.connect(ensure_queues, sender=self, dispatch_uid="reports-ensure-queues")
