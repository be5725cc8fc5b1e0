from django.apps import AppConfig


class FoldersConfig(AppConfig):
    name = "apps.folders"
    label = "folders"
    verbose_name = "Folders"

    def ready(self):
        from apps.core.services import retention

        from . import receivers  # noqa: F401
        from .models import Folder

        # Deleted folders hold no items and no files: purge_deleted removes their rows after retention.
        retention.register(Folder)
