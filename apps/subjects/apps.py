from django.apps import AppConfig


class SubjectsConfig(AppConfig):
    name = "apps.subjects"
    label = "subjects"
    verbose_name = "Subjects"

    def ready(self):
        from apps.core.services import retention

        from .models import Subject
        from .services import delete_subject_files

        # Soft-deleted subjects are purged, with their LoRA file, upload archives and media, after
        # the retention period.
        retention.register(Subject, cleanup=delete_subject_files)
