"""Retention of soft-deleted rows: ``purge_deleted`` deletes them for good once they are old enough.

Each app registers its soft-deletable models, with a callable that deletes a row's stored files
before the row goes (from its ``AppConfig.ready``, or at the end of this module for core)::

    from apps.core.services import retention

    retention.register(Item, cleanup=delete_item_files)
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import models, transaction
from django.utils import timezone

from apps.core.models import FileObject, MediaResource
from apps.core.sartiq.media import delete_media_files

from .files import delete_stored_files

logger = logging.getLogger("atelier.retention")


@dataclass(frozen=True)
class Retained:
    model: type[models.Model]
    cleanup: Callable[[models.Model], None] | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label


@dataclass
class PurgeReport:
    """What purging one model did (or, in a dry run, would do)."""

    label: str
    cutoff: datetime
    ids: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)  # id -> error message


_registry: dict[str, Retained] = {}


def register(model: type[models.Model], *, cleanup: Callable[[models.Model], None] | None = None) -> None:
    """Purge soft-deleted rows of ``model``; ``cleanup(row)`` deletes the row's files first.
    Registering a model again replaces its entry."""
    if not hasattr(model, "all_objects") or not hasattr(model, "hard_delete"):
        raise TypeError(f"{model._meta.label} is not a soft-deletable model (SoftDeleteModel).")
    _registry[model._meta.label] = Retained(model=model, cleanup=cleanup)


def registered() -> list[Retained]:
    return list(_registry.values())


def purge_deleted(*, older_than: timedelta, dry_run: bool = False, now: datetime | None = None) -> list[PurgeReport]:
    """Delete for good every registered row soft-deleted more than ``older_than`` ago: files first,
    then the row. Each row is locked and checked again before it goes, so a row restored meanwhile
    stays. A row whose clean-up fails is kept (and reported); running again retries it."""
    if older_than < timedelta(0):
        raise ValueError("older_than must not be negative.")
    cutoff = (now or timezone.now()) - older_than
    reports = []
    for entry in registered():
        report = PurgeReport(label=entry.label, cutoff=cutoff)
        expired = entry.model.all_objects.filter(deleted_at__isnull=False, deleted_at__lt=cutoff)
        for pk in expired.order_by("deleted_at", "pk").values_list("pk", flat=True).iterator():
            if dry_run:
                report.ids.append(pk)
                continue
            try:
                if _purge_row(entry, pk, cutoff):
                    report.ids.append(pk)
            except Exception as exc:
                logger.exception("Purging %s %s failed", entry.label, pk)
                report.failed[pk] = str(exc) or type(exc).__name__
        reports.append(report)
    return reports


def purge_rows(model: type[models.Model], pks, *, now: datetime | None = None) -> PurgeReport:
    """Delete for good, now, the soft-deleted rows of a registered ``model`` among ``pks`` (the back
    office's purge action): files first (the registered clean-up), then the row. Live rows are
    left alone; a row whose clean-up fails is kept and reported."""
    entry = _registry.get(model._meta.label)
    if entry is None:
        raise LookupError(f"{model._meta.label} is not registered for retention.")
    cutoff = now or timezone.now()
    cutoff += timedelta(microseconds=1)
    report = PurgeReport(label=entry.label, cutoff=cutoff)
    for pk in list(pks):
        try:
            if _purge_row(entry, pk, cutoff):
                report.ids.append(pk)
        except Exception as exc:
            logger.exception("Purging %s %s failed", entry.label, pk)
            report.failed[pk] = str(exc) or type(exc).__name__
    return report


def _purge_row(entry: Retained, pk, cutoff: datetime) -> bool:
    with transaction.atomic():
        row = (
            entry.model.all_objects.select_for_update()
            .filter(pk=pk, deleted_at__isnull=False, deleted_at__lt=cutoff)
            .first()
        )
        if row is None:
            return False  # restored or purged by someone else meanwhile
        if entry.cleanup is not None:
            entry.cleanup(row)
        row.hard_delete()
    logger.info("Purged %s %s (deleted %s)", entry.label, pk, row.deleted_at.isoformat())
    return True


register(FileObject, cleanup=delete_stored_files)
register(MediaResource, cleanup=delete_media_files)
