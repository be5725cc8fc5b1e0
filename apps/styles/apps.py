from django.apps import AppConfig


class StylesConfig(AppConfig):
    name = "apps.styles"
    label = "styles"
    verbose_name = "Styles"

    def ready(self):
        from apps.core.services import retention

        from .models import Style
        from .services import delete_style_files

        # Soft-deleted styles are purged, with their LoRA file and media, after the retention period.
        retention.register(Style, cleanup=delete_style_files)
