"""Writes of the reports app: filing reports (users and the system), closing them, exporting them for
Epoch, and the moderation decisions around them. Every decision is recorded (``ModerationEvent``).

Reports are locked in id order before they change and items are only ever changed through the items
app's services, so two moderators closing the same reports at once never both close one, and an
accepted report's item is deleted exactly as ``deleteItems`` deletes it (out of its folder, tags
cleared).
"""

import csv
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Subquery
from django.utils import timezone

from apps.core.errors import InvalidInput

from . import selectors
from .defaults import ensure_queues
from .models import ModerationEvent, Report, ReportQueue

logger = logging.getLogger("atelier.reports")

Status = Report.Status
Source = Report.Source
EventKind = ModerationEvent.Kind
EventSource = ModerationEvent.Source

MAX_IDS = selectors.MAX_IDS
MAX_NOTE_CHARS = 5000
DEFAULT_REPEAT_OFFENDER_THRESHOLD = 3

# Per-id answers.
ITEM_NOT_FOUND = "No item with this id exists, or you may not see it."
ITEM_PROTECTED = "The item is protected and cannot be reported; contact an admin."
ITEM_APPROVED = "The item is approved for public display and cannot be reported; contact an admin."
ALREADY_REPORTED = "You already reported this item and your report is still open."
REPORT_NOT_FOUND = "No report with this id exists."
# Why a report was closed as automaticallyDeclined.
ITEM_GONE = "The item no longer exists."
ITEM_NOW_PROTECTED = "The item is protected."
ITEM_DELETED = "The item was deleted before a decision."
AUTO_DECLINED = "The report was closed as automaticallyDeclined."


def repeat_offender_threshold() -> int:
    """REPORTS_REPEAT_OFFENDER_THRESHOLD: offences (distinct items with an accepted report or an open
    prompt-policy flag) that put an author in the Repeat Offenders queue; 0 turns the queue off."""
    return max(int(getattr(settings, "REPORTS_REPEAT_OFFENDER_THRESHOLD", DEFAULT_REPEAT_OFFENDER_THRESHOLD)), 0)


@dataclass(frozen=True)
class ReportResult:
    """One entry of reportItems' answer."""

    id: str
    report_id: str | None
    success: bool
    message: str = ""

    def as_dict(self) -> dict:
        data = {"id": self.id, "reportId": self.report_id, "success": self.success}
        if not self.success:
            data["message"] = self.message
        return data


@dataclass(frozen=True)
class CloseResult:
    """One entry of closeReports' answer; ``status`` is the status this call gave the report."""

    id: str
    success: bool
    message: str = ""
    status: str | None = None

    def as_dict(self) -> dict:
        data = {"id": self.id, "success": self.success}
        if not self.success:
            data["message"] = self.message
        return data


def _uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _unique(ids) -> list:
    return list(dict.fromkeys(_uuid(value) for value in ids))


def _check_text(value: str, field: str) -> str:
    value = value or ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string.", errors={(field,): ["Must be a string."]})
    if len(value) > MAX_NOTE_CHARS:
        message = f"{field} is too long: at most {MAX_NOTE_CHARS} characters."
        raise InvalidInput(message, errors={(field,): [message]})
    return value.strip()


def _person(user) -> tuple:
    if user is None or not getattr(user, "is_authenticated", False):
        return None, ""
    return user.pk, user.email


def _event(kind: str, *, source: str, actor=None, report: Report | None = None, note: str = "", **details):
    actor_id, actor_email = _person(actor)
    subject = details.pop("subject", None)
    subject_id, subject_email = (None, "")
    if subject is not None:
        subject_id, subject_email = subject.pk, subject.email
    elif report is not None:
        subject_id = report.author_id
        subject_email = (report.author_metadata or {}).get("userEmail", "")
    return ModerationEvent(
        kind=kind,
        source=source,
        actor_id=actor_id,
        actor_email=actor_email,
        report_id=report.pk if report is not None else None,
        item_ref=report.item_ref if report is not None else details.pop("item_ref", None),
        subject_id=subject_id,
        subject_email=subject_email,
        note=note,
        details=details,
    )


# --- snapshots -------------------------------------------------------------------------------------------


def item_snapshot(item, *, url: str) -> dict:
    """itemMetadata: the prompts as written and as filtered, the workflow, the model, the url."""
    data = {
        "rawPositivePrompt": item.raw_prompt or item.prompt,
        "filteredPositivePrompt": item.prompt,
        "rawNegativePrompt": item.raw_negative_prompt or item.negative_prompt,
        "filteredNegativePrompt": item.negative_prompt,
        "workflowUsed": item.workflow_template_name,
        "modelId": item.model,
        "url": url,
    }
    return {key: value for key, value in data.items() if value}


def author_snapshot(author, *, flagged: int) -> dict:
    """authorMetadata: who made the item and their record at report time."""
    if author is None:
        return {}
    return {
        "userId": str(author.pk),
        "userEmail": author.email,
        "username": author.username,
        "flaggedItemsCount": flagged,
        "abuse": author.abuse_level,
        "isDisabled": bool(author.is_deleted or not author.is_active),
    }


def _domain_of(item, fallback=None):
    if item.owner_id is not None:
        return item.owner.domain_id
    if fallback is not None:
        return getattr(fallback, "pk", fallback)
    from apps.core.domains import default_domain

    return default_domain().pk


# --- queues ------------------------------------------------------------------------------------------------


def system_queue(kind: str) -> ReportQueue:
    """The system queue of ``kind`` (created again, under its usual name, if it was removed)."""
    queue = ReportQueue.objects.filter(kind=kind).first()
    if queue is None:
        ensure_queues()
        queue = ReportQueue.objects.get(kind=kind)
    return queue


def _user_queue(name: str | None) -> ReportQueue:
    if name is None or not str(name).strip():
        queue = selectors.default_queue()
        if queue is None:  # removed: bring it back
            ensure_queues()
            queue = selectors.default_queue()
        return queue
    queue = selectors.user_queue_named(str(name))
    if queue is None:
        names = ", ".join(selectors.queue_names(include_system=False))
        message = f"Unknown report queue '{str(name)[:100]}'; use one of: {names}."
        raise InvalidInput(message, errors={("reportQueue",): [message]})
    return queue


# --- reportItems -------------------------------------------------------------------------------------------


def report_items(
    *,
    reporter,
    item_ids: Iterable,
    queue_name: str | None = None,
    additional_information: str = "",
    url_for: Callable | None = None,
) -> list[ReportResult]:
    """File one report per item for ``reporter`` (AIMG reportItems); every id gets an answer, in order.

    An item the reporter may not see (or that does not exist) fails, and so do protected items,
    items approved for public display and items the reporter already reported with the report still
    open (also when two requests race: a database constraint decides). ``url_for(item)`` gives the
    item's URL for the snapshot (the view passes one that knows the request).
    """
    from apps.items import selectors as items

    information = _check_text(additional_information, "additionalInformation")
    queue = _user_queue(queue_name)
    ids = _unique(item_ids)
    url_for = url_for or selectors.item_url
    found = {
        item.pk: item
        for item in items.visible_items(reporter).filter(pk__in=ids).select_related("owner", "owner__domain")
    }
    already = selectors.open_reports_by(reporter, found)
    flagged = selectors.flagged_counts(item.owner_id for item in found.values())
    results = {}
    for item_id in ids:
        item = found.get(item_id)
        if item is None:
            results[item_id] = ReportResult(str(item_id), None, False, ITEM_NOT_FOUND)
        elif item.is_protected:
            results[item_id] = ReportResult(str(item_id), None, False, ITEM_PROTECTED)
        elif item.public_approval_status == "approved":
            results[item_id] = ReportResult(str(item_id), None, False, ITEM_APPROVED)
        elif item_id in already:
            results[item_id] = ReportResult(str(item_id), None, False, ALREADY_REPORTED)
        else:
            report = Report(
                domain_id=_domain_of(item, reporter.domain_id),
                item=item,
                item_ref=item.pk,
                queue=queue,
                source=Source.USER,
                reporter=reporter,
                author=item.owner,
                additional_information=information,
                item_metadata=item_snapshot(item, url=url_for(item)),
                author_metadata=author_snapshot(item.owner, flagged=flagged.get(item.owner_id, 0)),
            )
            try:
                with transaction.atomic():
                    report.save(force_insert=True)
            except IntegrityError:
                results[item_id] = ReportResult(str(item_id), None, False, ALREADY_REPORTED)
            else:
                results[item_id] = ReportResult(str(item_id), str(report.pk), True)
    return [results[item_id] for item_id in ids]


# --- system reports -------------------------------------------------------------------------------------------


@transaction.atomic
def flag_prompt_policy(
    *, items: Iterable, terms: Iterable[str], prompt: str = "", filtered_prompt: str = ""
) -> list[Report]:
    """File one system report per item in the Prompt Policy queue (a generation whose prompt matched
    a "flag for review" term). An item is flagged once: sending the same flag again files nothing."""
    terms = [str(term) for term in terms]
    queue = system_queue(ReportQueue.Kind.PROMPT_POLICY)
    filed = []
    for item in items:
        author = item.owner if item.owner_id else None
        flagged = selectors.flagged_counts([item.owner_id]).get(item.owner_id, 0)
        report = Report(
            domain_id=_domain_of(item),
            item_id=item.pk,
            item_ref=item.pk,
            queue=queue,
            source=Source.PROMPT_POLICY,
            author=author,
            additional_information=f"The prompt matched the policy term(s): {', '.join(terms)}.",
            item_metadata=item_snapshot(item, url=selectors.item_url(item)),
            author_metadata=author_snapshot(author, flagged=flagged),
            system_details={"terms": terms, "prompt": prompt, "filteredPrompt": filtered_prompt},
        )
        try:
            with transaction.atomic():
                report.save(force_insert=True)
        except IntegrityError:
            continue  # already flagged
        filed.append(report)
        consider_repeat_offender(author=author, trigger=report)
    return filed


@transaction.atomic
def consider_repeat_offender(*, author, trigger: Report) -> Report | None:
    """File a Repeat Offenders report when the author's offences reach the threshold.

    One is filed when the count first reaches ``repeat_offender_threshold()`` and, after it is closed,
    again each time the count has grown by the threshold since; never two open at once (a database
    constraint holds it). The report is on the item that crossed the line.
    """
    threshold = repeat_offender_threshold()
    if not threshold or author is None:
        return None
    from apps.accounts.models import User

    # Decisions on one author's items wait for each other here, so each counts the others' offences
    # (without the lock, two at once could each see only its own and neither file the report).
    author = User.all_objects.select_for_update().filter(pk=author.pk).first()
    if author is None:
        return None
    offences = selectors.offence_count(author)
    if offences < threshold:
        return None
    last = selectors.last_repeat_offender_report(author)
    if last is not None and (last.is_open or offences < int(last.system_details.get("offences", 0)) + threshold):
        return None
    report = Report(
        domain_id=trigger.domain_id,
        item_id=trigger.item_id,
        item_ref=trigger.item_ref,
        queue=system_queue(ReportQueue.Kind.REPEAT_OFFENDER),
        source=Source.REPEAT_OFFENDER,
        author=author,
        additional_information=(
            f"{offences} offences (items with an accepted report or a prompt-policy flag) reached "
            f"the threshold of {threshold}."
        ),
        item_metadata=trigger.item_metadata,
        author_metadata=author_snapshot(author, flagged=selectors.flagged_items_count(author)),
        system_details={"offences": offences, "threshold": threshold, "trigger": str(trigger.pk)},
    )
    try:
        with transaction.atomic():
            report.save(force_insert=True)
    except IntegrityError:
        return None  # another decision filed it at the same moment
    return report


# --- closeReports ------------------------------------------------------------------------------------------


def _vanished_reason(report: Report, removed: set) -> str | None:
    """Why the report can only be closed as automaticallyDeclined, or None."""
    item = report.item
    if item is None:
        return ITEM_GONE
    if item.is_protected:
        return ITEM_NOW_PROTECTED
    if item.deleted_at is not None and report.item_ref not in removed:
        return ITEM_DELETED
    return None


def _related_ids(scope: QuerySet, ids: list) -> list:
    """Open reports sharing an item with the given reports (closeRelatedReports), oldest first."""
    items = scope.filter(pk__in=ids).values("item_ref")
    return list(
        scope.filter(item_ref__in=Subquery(items), status=Status.PENDING)
        .exclude(pk__in=ids)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def close_reports(
    *,
    report_ids: Iterable,
    status: str,
    actor,
    note: str = "",
    close_related: bool = False,
    domain=None,
    source: str = EventSource.API,
) -> list[CloseResult]:
    """Accept or decline reports (AIMG closeReports, and the back office's one-click decisions).

    ``accepted`` soft-deletes the reports' items (out of their folders, tags cleared) through the items
    app, which counts a flag on each author; ``declined`` leaves the items alone. A report whose item
    is gone, protected, or deleted other than by an accepted report is closed as
    ``automaticallyDeclined`` instead (and its entry fails with the reason). ``close_related`` adds
    every open report on the same items. ``domain`` limits the reports to one site.
    """
    from apps.items import services as items

    if status not in (Status.ACCEPTED, Status.DECLINED):
        message = "The report status must be accepted or declined."
        raise InvalidInput(message, errors={("reportStatus",): [message]})
    note = _check_text(note, "additionalInformation")
    scope = Report.objects.all() if domain is None else Report.objects.filter(domain=domain)
    ids = _unique(report_ids)
    if close_related:
        ids += _related_ids(scope, ids)
    reports = {
        report.pk: report
        for report in scope.select_for_update(of=("self",))
        .select_related("item", "queue")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    pending = [reports[pk] for pk in ids if pk in reports and reports[pk].is_open]
    removed = selectors.removed_by_moderation({report.item_ref for report in pending})

    outcome: dict = {}  # report id -> (status, reason)
    to_delete = set()
    for report in pending:
        reason = _vanished_reason(report, removed)
        if reason:
            outcome[report.pk] = (Status.AUTOMATICALLY_DECLINED, reason)
        elif status == Status.ACCEPTED:
            if report.item.deleted_at is None:
                to_delete.add(report.item_ref)
            outcome[report.pk] = (Status.ACCEPTED, "")
        else:
            outcome[report.pk] = (Status.DECLINED, "")

    if to_delete:
        deleted = items.delete_items(item_ids=sorted(to_delete), may_delete=lambda item: True)
        failed = {_uuid(result.id) for result in deleted if not result.success}
        if failed:
            # The item changed after it was read (protected, deleted or purged meanwhile): read again.
            _auto_decline_changed(pending, outcome, failed)

    now = timezone.now()
    approver = actor if getattr(actor, "is_authenticated", False) else None
    by_outcome: dict = {}
    for report in pending:
        by_outcome.setdefault(outcome[report.pk], []).append(report.pk)
    for (final, reason), pks in by_outcome.items():  # one UPDATE per outcome, not per report
        Report.objects.filter(pk__in=pks).update(
            status=final,
            processed_at=now,
            approver=approver,
            approval_additional_information=f"{reason} {AUTO_DECLINED}" if reason else note,
            updated_at=now,
        )
    events = []
    for report in pending:
        final, reason = outcome[report.pk]
        report.status = final
        kind = {
            Status.ACCEPTED: EventKind.REPORT_ACCEPTED,
            Status.DECLINED: EventKind.REPORT_DECLINED,
            Status.AUTOMATICALLY_DECLINED: EventKind.REPORT_AUTO_DECLINED,
        }[final]
        events.append(
            _event(
                kind,
                source=source,
                actor=actor,
                report=report,
                note=note,
                requested=status,
                reason=reason,
                queue=report.queue.name,
                closeRelated=close_related,
            )
        )
    ModerationEvent.objects.bulk_create(events)

    accepted_authors = {}
    for report in pending:
        if outcome[report.pk][0] == Status.ACCEPTED and report.author_id is not None:
            accepted_authors.setdefault(report.author_id, report)
    for author_id in sorted(accepted_authors):
        trigger = accepted_authors[author_id]
        consider_repeat_offender(author=trigger.author, trigger=trigger)

    results = []
    for pk in ids:
        report = reports.get(pk)
        if report is None:
            results.append(CloseResult(str(pk), False, REPORT_NOT_FOUND))
        elif pk not in outcome:
            results.append(CloseResult(str(pk), False, f"The report is already closed ({report.status})."))
        else:
            final, reason = outcome[pk]
            if reason:
                results.append(CloseResult(str(pk), False, f"{reason} {AUTO_DECLINED}", final))
            else:
                results.append(CloseResult(str(pk), True, "", final))
    return results


def _auto_decline_changed(pending: list, outcome: dict, failed: set) -> None:
    refs = {report.item_ref for report in pending if report.item_ref in failed}
    state = {
        row["item_ref"]: row
        for row in Report.objects.filter(item_ref__in=refs)
        .order_by()
        .values("item_ref", "item_id", "item__is_protected", "item__deleted_at")
    }
    removed = selectors.removed_by_moderation(refs)
    for report in pending:
        if report.item_ref not in failed or outcome[report.pk][0] != Status.ACCEPTED:
            continue
        row = state.get(report.item_ref) or {}
        if row.get("item_id") is None:
            outcome[report.pk] = (Status.AUTOMATICALLY_DECLINED, ITEM_GONE)
        elif row.get("item__is_protected"):
            outcome[report.pk] = (Status.AUTOMATICALLY_DECLINED, ITEM_NOW_PROTECTED)
        elif report.item_ref not in removed:
            outcome[report.pk] = (Status.AUTOMATICALLY_DECLINED, ITEM_DELETED)
        # else: another accepted report removed the item meanwhile; this one is accepted too.


def vanished_q() -> Q:
    """Open reports whose item is gone, protected, or deleted other than by an accepted report."""
    removed = Report.objects.filter(status=Status.ACCEPTED).values("item_ref")
    return Q(status=Status.PENDING) & (
        Q(item__isnull=True)
        | Q(item__is_protected=True)
        | (Q(item__deleted_at__isnull=False) & ~Q(item_ref__in=Subquery(removed)))
    )


@transaction.atomic
def decline_vanished_reports(*, source: str = EventSource.SYSTEM) -> int:
    """Close as automaticallyDeclined every open report whose item vanished or became protected
    (the periodic sweep; closeReports does the same for the reports it is given)."""
    reports = list(
        Report.objects.select_for_update(of=("self",))
        .select_related("item")
        .filter(pk__in=Subquery(Report.objects.filter(vanished_q()).values("pk")))
        .order_by("pk")
    )
    if not reports:
        return 0
    removed = selectors.removed_by_moderation({report.item_ref for report in reports})
    now = timezone.now()
    events = []
    for report in reports:
        reason = _vanished_reason(report, removed)
        if reason is None:
            continue
        Report.objects.filter(pk=report.pk).update(
            status=Status.AUTOMATICALLY_DECLINED,
            processed_at=now,
            approval_additional_information=f"{reason} {AUTO_DECLINED}",
            updated_at=now,
        )
        events.append(_event(EventKind.REPORT_AUTO_DECLINED, source=source, report=report, note="", reason=reason))
    ModerationEvent.objects.bulk_create(events)
    return len(events)


# --- the Epoch CSV ---------------------------------------------------------------------------------------------

#: The columns of the Epoch CSV, in order (docs: "Reports and moderation").
CSV_COLUMNS = [
    "reportId",
    "reportedDate",
    "reportStatus",
    "reportQueues",
    "reportProcessedDate",
    "itemId",
    "itemUrl",
    "rawPositivePrompt",
    "filteredPositivePrompt",
    "rawNegativePrompt",
    "filteredNegativePrompt",
    "workflowUsed",
    "modelId",
    "authorId",
    "authorEmail",
    "reporterId",
    "reportAdditionalInformation",
    "moderatorDecision",
    "approverId",
    "approverEmail",
    "approvalAdditionalInformation",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _iso(value) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _cell(value) -> str:
    """A CSV cell that a spreadsheet shows as text: a leading = + - @ (a formula) gets a quote."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def csv_row(report: Report) -> list[str]:
    item = report.item_metadata or {}
    author = report.author_metadata or {}
    decided = report.status != Status.PENDING
    row = [
        str(report.pk),
        _iso(report.created_at),
        report.status,
        report.queue.name,
        _iso(report.processed_at),
        str(report.item_ref),
        item.get("url", ""),
        item.get("rawPositivePrompt", ""),
        item.get("filteredPositivePrompt", ""),
        item.get("rawNegativePrompt", ""),
        item.get("filteredNegativePrompt", ""),
        item.get("workflowUsed", ""),
        item.get("modelId", ""),
        str(report.author_id) if report.author_id else author.get("userId", ""),
        author.get("userEmail", ""),
        str(report.reporter_id) if report.reporter_id else "",
        report.additional_information,
        report.status if decided else "",
        str(report.approver_id) if report.approver_id else "",
        report.approver.email if report.approver_id else "",
        report.approval_additional_information,
    ]
    return [_cell(value) for value in row]


def write_csv(reports: Iterable[Report], out) -> int:
    """Write the Epoch CSV of ``reports`` (queue and approver loaded) to the text stream ``out``."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for report in reports:
        writer.writerow(csv_row(report))
        count += 1
    return count


@transaction.atomic
def export_reports(*, reports: QuerySet[Report], out, actor=None, source: str = EventSource.API) -> int:
    """Write the Epoch CSV of ``reports`` (oldest first) to ``out``, count one more download of each
    (``downloadCount`` with F(), ``downloadLastDate``) and record the export. The one function behind
    downloadReportsForEpoch, the back office's CSV action and ``export_reports``."""
    rows = list(reports.select_related("queue", "approver").order_by("created_at", "pk"))
    count = write_csv(rows, out)
    ids = [report.pk for report in rows]
    if ids:
        now = timezone.now()
        Report.objects.filter(pk__in=ids).update(
            download_count=F("download_count") + 1, download_last_at=now, updated_at=now
        )
        _event(EventKind.REPORTS_EXPORTED, source=source, actor=actor, count=count).save()
    return count


# --- the author --------------------------------------------------------------------------------------------------


@transaction.atomic
def set_author_abuse_level(*, author, level: int, actor, note: str = "", report: Report | None = None, source: str):
    """Set a report author's abuse level through the accounts app, and record the decision."""
    from apps.accounts import services as accounts

    note = _check_text(note, "note")
    before = author.abuse_level
    accounts.set_abuse_level(user=author, level=level)
    _event(
        EventKind.ABUSE_LEVEL_SET,
        source=source,
        actor=actor,
        subject=author,
        report=report,
        note=note,
        before=before,
        after=level,
    ).save()
    return author
