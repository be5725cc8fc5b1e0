"""Reads of the reports app: queues, permission-scoped report lists and their filters, the counts a
user's profile and the back office show."""

from datetime import timedelta
from urllib.parse import urlencode

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from apps.core.errors import InvalidInput

from . import parsing
from .models import Report, ReportQueue

VIEW_PERMISSION = "reports.view_report"
CLOSE_PERMISSION = "reports.close_report"
EXPORT_PERMISSION = "reports.export_report"

Status = Report.Status
Source = Report.Source
MAX_IDS = 1000
ONE_MS = timedelta(milliseconds=1)


def _signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated)


def is_reports_admin(user) -> bool:
    """Whoever may read every report and see the system queues (``reports.view_report``)."""
    return bool(_signed_in(user) and user.is_active and user.has_perm(VIEW_PERMISSION))


# --- queues ------------------------------------------------------------------------------------------


def user_queues() -> QuerySet[ReportQueue]:
    """The queues users may report into (reportItems' reportQueue), in display order."""
    return ReportQueue.objects.filter(kind=ReportQueue.Kind.USER, is_active=True)


def listed_queues(*, include_system: bool) -> QuerySet[ReportQueue]:
    """getReportQueues: the user queues, and for admins the system queues as well."""
    if include_system:
        return ReportQueue.objects.filter(Q(kind=ReportQueue.Kind.USER, is_active=True) | ~Q(kind="user"))
    return user_queues()


def queue_names(*, include_system: bool) -> list[str]:
    return list(listed_queues(include_system=include_system).values_list("name", flat=True))


def default_queue() -> ReportQueue | None:
    return ReportQueue.objects.filter(is_default=True).first()


def user_queue_named(name: str) -> ReportQueue | None:
    """The active user queue with this name (case and surrounding blanks ignored)."""
    return user_queues().filter(name__iexact=name.strip()).first()


# --- reports -----------------------------------------------------------------------------------------


def reports_of(domain) -> QuerySet[Report]:
    """Every report of a site, with what the ItemReport payload reads."""
    return Report.objects.filter(domain=domain).select_related("queue")


def open_reports_by(reporter, item_ids) -> set:
    """Ids of the items among ``item_ids`` that ``reporter`` reported and whose report is still open."""
    return set(
        Report.objects.filter(
            reporter=reporter, item_ref__in=list(item_ids), status=Status.PENDING, source=Source.USER
        ).values_list("item_ref", flat=True)
    )


def flagged_items_count(user) -> int:
    """The user's flagged items: distinct items of theirs with an accepted report (flaggedImagesCount)."""
    if not _signed_in(user):
        return 0
    return flagged_counts([user.pk]).get(user.pk, 0)


def flagged_counts(author_ids) -> dict:
    """``{author_id: flagged items}`` for several authors, in one query."""
    ids = [author_id for author_id in dict.fromkeys(author_ids) if author_id is not None]
    if not ids:
        return {}
    rows = (
        Report.objects.filter(author_id__in=ids, status=Status.ACCEPTED)
        .order_by()
        .values("author_id")
        .annotate(n=Count("item_ref", distinct=True))
    )
    return {row["author_id"]: row["n"] for row in rows}


def offence_q() -> Q:
    """What counts against an author: an accepted report, or a prompt-policy flag not declined."""
    return Q(status=Status.ACCEPTED) | Q(source=Source.PROMPT_POLICY, status=Status.PENDING)


def offence_count(author) -> int:
    """Distinct items of the author with an accepted report or an open prompt-policy flag."""
    if author is None:
        return 0
    return Report.objects.filter(offence_q(), author=author).values("item_ref").distinct().count()


def last_repeat_offender_report(author) -> Report | None:
    return Report.objects.filter(author=author, source=Source.REPEAT_OFFENDER).order_by("-created_at").first()


def removed_by_moderation(item_refs) -> set:
    """Ids of the items among ``item_refs`` that an accepted report removed."""
    return set(
        Report.objects.filter(item_ref__in=list(item_refs), status=Status.ACCEPTED).values_list("item_ref", flat=True)
    )


def item_url(item, request=None) -> str:
    """The getFile URL of an item's main file: absolute with a request (or FILE_SERVER_PUBLIC_BASE_URL),
    else the path on this server ("" while the item has no file)."""
    if not item.file_id:
        return ""
    if request is not None:
        from apps.items.api.serializers import file_url

        return file_url(item, request)
    query = urlencode({"id": item.file_id})
    base = getattr(settings, "FILE_SERVER_PUBLIC_BASE_URL", "")
    if base:
        return f"{base.rstrip('/')}/getFile?{query}"
    return f"{reverse('core:get-file')}?{query}"


# --- getReports filters ---------------------------------------------------------------------------------


class _QueryField(forms.Field):
    """A query parameter parsed by ``parse``: absent is no filter, present (even blank) must be valid."""

    max_chars = 64_000

    def parse(self, value: str):
        raise NotImplementedError

    def clean(self, value):
        if value is None:
            return None
        if len(value) > self.max_chars:
            raise forms.ValidationError(f"Too long: at most {self.max_chars} characters.")
        try:
            return self.parse(value)
        except parsing.Invalid as exc:
            raise forms.ValidationError(str(exc)) from None


class UUIDListField(_QueryField):
    def parse(self, value):
        return parsing.uuid_list(value, what="report", limit=MAX_IDS)


class UUIDOneField(_QueryField):
    def parse(self, value):
        return parsing.uuid_list(value, what="user", limit=1)[0]


class StatusListField(_QueryField):
    def parse(self, value):
        statuses = parsing.name_list(value)
        unknown = [status for status in statuses if status not in Status.values]
        if unknown:
            raise parsing.Invalid(f"Unknown report status '{unknown[0][:64]}'; use {', '.join(Status.values)}.")
        return statuses


class QueueListField(_QueryField):
    def parse(self, value):
        return parsing.name_list(value)


class IsoBoundField(_QueryField):
    """An RFC 3339 date or date-time: ``(moment, whole_day)``."""

    max_chars = 64

    def parse(self, value):
        return parsing.date_bound(value)


def _filter(field):
    return type(f"{field.__name__}Filter", (django_filters.Filter,), {"field_class": field})


class ReportFilter(django_filters.FilterSet):
    """getReports' filters. Lists are comma-separated; both dates are inclusive to the millisecond
    shown in ``reportedDate`` (a bare date in ``createdBefore`` includes that whole day)."""

    reportIds = _filter(UUIDListField)(method="filter_ids")  # noqa: N815
    reportStatus = _filter(StatusListField)(method="filter_status")  # noqa: N815
    reportQueues = _filter(QueueListField)(method="filter_queues")  # noqa: N815
    createdAfter = _filter(IsoBoundField)(method="filter_after")  # noqa: N815
    createdBefore = _filter(IsoBoundField)(method="filter_before")  # noqa: N815
    authorId = _filter(UUIDOneField)(field_name="author_id")  # noqa: N815

    class Meta:
        model = Report
        fields = []

    def filter_ids(self, queryset, name, value):
        return queryset.filter(pk__in=value) if value else queryset

    def filter_status(self, queryset, name, value):
        return queryset.filter(status__in=value) if value else queryset

    def filter_queues(self, queryset, name, value):
        """Queue names, in any case; a name no queue has matches nothing (like an unknown id)."""
        if not value:
            return queryset
        wanted = {queue.lower() for queue in value}
        ids = [pk for pk, queue in ReportQueue.objects.values_list("pk", "name") if queue.lower() in wanted]
        return queryset.filter(queue_id__in=ids)

    def filter_after(self, queryset, name, value):
        if not value:
            return queryset
        moment, _ = value
        return queryset.filter(created_at__gte=moment)

    def filter_before(self, queryset, name, value):
        """At or before: the whole day of a bare date; else up to the last microsecond of the given
        millisecond (``reportedDate`` shows milliseconds, so a report's own date includes it)."""
        if not value:
            return queryset
        moment, whole_day = value
        try:
            if whole_day:
                return queryset.filter(created_at__lt=moment + timedelta(days=1))
            floor = moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)
            return queryset.filter(created_at__lt=floor + ONE_MS)
        except OverflowError:  # the last day or millisecond a date can hold: everything is before it
            return queryset


def filter_reports(queryset: QuerySet[Report], query) -> QuerySet[Report]:
    """``queryset`` narrowed by getReports' query parameters; InvalidInput (400) naming a bad one."""
    filterset = ReportFilter(data=query, queryset=queryset)
    if not filterset.is_valid():
        raise InvalidInput(
            errors={(name,): list(messages) for name, messages in filterset.errors.items()}, location="query"
        )
    return filterset.qs


def reports_by_ids(domain, report_ids) -> QuerySet[Report]:
    return reports_of(domain).filter(pk__in=list(report_ids))


# --- the back office -------------------------------------------------------------------------------------


def pending_counts_by_queue() -> dict:
    """``{queue_id: open reports}`` (one query)."""
    rows = Report.objects.filter(status=Status.PENDING).order_by().values("queue_id").annotate(n=Count("pk"))
    return {row["queue_id"]: row["n"] for row in rows}


def author_report_history(author_ids) -> dict:
    """``{author_id: {"flags", "pending", "accepted", "declined", "automaticallyDeclined"}}`` in one query."""
    ids = [author_id for author_id in dict.fromkeys(author_ids) if author_id is not None]
    if not ids:
        return {}
    rows = (
        Report.objects.filter(author_id__in=ids)
        .order_by()
        .values("author_id")
        .annotate(
            flags=Count("item_ref", filter=Q(status=Status.ACCEPTED), distinct=True),
            pending=Count("pk", filter=Q(status=Status.PENDING)),
            accepted=Count("pk", filter=Q(status=Status.ACCEPTED)),
            declined=Count("pk", filter=Q(status=Status.DECLINED)),
            auto=Count("pk", filter=Q(status=Status.AUTOMATICALLY_DECLINED)),
        )
    )
    return {
        row["author_id"]: {
            "flags": row["flags"],
            "pending": row["pending"],
            "accepted": row["accepted"],
            "declined": row["declined"],
            "automaticallyDeclined": row["auto"],
        }
        for row in rows
    }
