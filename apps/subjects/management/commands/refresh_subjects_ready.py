from django.core.management.base import BaseCommand, CommandError

from apps.subjects import services
from apps.subjects.models import Subject


class Command(BaseCommand):
    help = (
        "Recompute 'ready' of subjects (a cover, and a base image for every shot type their shooting "
        "guidelines need, unless held back): all of them, or those of --ids / --owner. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ids", nargs="+", default=None, help="Subject ids.")
        parser.add_argument("--owner", default=None, help="Only the subjects of the user with this email.")
        parser.add_argument("--batch", type=int, default=500, help="Subjects per batch (default 500).")

    def handle(self, *args, ids=None, owner=None, batch=500, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        queryset = Subject.all_objects.order_by("pk")
        if ids:
            try:
                queryset = queryset.filter(pk__in=ids)
                known = set(map(str, queryset.values_list("pk", flat=True)))
            except Exception as exc:
                raise CommandError(f"--ids must be subject ids (UUIDs): {exc}") from None
            missing = [value for value in ids if value not in known]
            if missing:
                raise CommandError(f"No subject has the id(s) {', '.join(missing)}.")
        if owner:
            queryset = queryset.filter(owner__email__iexact=owner)
        before = set(queryset.filter(ready=True).values_list("pk", flat=True))
        pks = list(queryset.values_list("pk", flat=True))
        for start in range(0, len(pks), batch):
            services.refresh_readiness(subject_ids=pks[start : start + batch])
        after = set(Subject.all_objects.filter(pk__in=pks, ready=True).values_list("pk", flat=True))
        self.stdout.write(
            f"Checked {len(pks)} subject(s): {len(after)} ready; {len(after - before)} became ready, "
            f"{len(before - after)} no longer ready."
        )
