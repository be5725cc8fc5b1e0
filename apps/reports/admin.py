"""The moderation back office: the report queues, the pending reports (grouped by item), the closed
reports, and the record of every decision.

- **Report queues** lists each queue with links to its pending and closed reports (one place per
  queue); staff with the admin role add and edit user queues.
- **Pending reports** shows one row per reported item: a large preview, the prompts as reported,
  every open report on the item (queues, reporters, their words) and the author's history (flagged
  items, abuse level, past reports) with a link to set the author's abuse level. Accept and Decline
  with a note are one click on each row; bulk actions take the note from the actions bar. A decision
  on a row closes every open report on that item, through ``services.close_reports`` (closeReports).
- **Closed reports** for review, with the moderator, the date and the note.
- **Download CSV (Epoch)** on both lists writes the same CSV as downloadReportsForEpoch.
- **Moderation events**: who decided what, when, with which note (read-only).
"""

import io
import uuid
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme

from apps.core.errors import AtelierError

from . import selectors, services
from .api.aimg import csv_download
from .models import ClosedReport, ModerationEvent, PendingReport, Report, ReportQueue

Status = Report.Status
CLOSE = selectors.CLOSE_PERMISSION
EXPORT = selectors.EXPORT_PERMISSION
MODERATE_USER = "accounts.moderate_user"
ABUSE_LEVELS = [
    (0, "0: no limits"),
    (1, "1: generation blocked"),
    *((level, f"{level}: generation blocked") for level in range(2, 9)),
    (9, "9: signed out everywhere, sign-in blocked"),
]


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _file_url(file_id) -> str:
    return f"{reverse('core:get-file')}?{urlencode({'id': file_id})}"


def preview(report: Report, *, size: int) -> str:
    """The reported item as the moderator sees it: thumbnail (or video), linked to the full file."""
    item = report.item
    if item is None:
        url = (report.item_metadata or {}).get("url")
        if url:
            return format_html('(item purged) <a href="{}" rel="noopener noreferrer">former URL</a>', url)
        return "(item purged)"
    badge = format_html(' <strong class="report-item-state">{}</strong>', "deleted") if item.deleted_at else ""
    if item.is_protected:
        badge = format_html(' <strong class="report-item-state">{}</strong>', "protected")
    if not item.thumbnail_id and not item.file_id:
        return format_html("(no file){}", badge)
    if item.media_kind == "video" and not item.thumbnail_id:
        return format_html(
            '<video class="report-preview" src="{}" controls muted preload="metadata" '
            'style="max-width:{}px;max-height:{}px"></video>{}',
            _file_url(item.file_id),
            size,
            size,
            badge,
        )
    return format_html(
        '<a href="{}" target="_blank" rel="noopener"><img class="report-preview" src="{}" alt="item {}" '
        'loading="lazy" style="max-width:{}px;max-height:{}px;object-fit:contain"></a>{}',
        _file_url(item.file_id or item.thumbnail_id),
        _file_url(item.thumbnail_id or item.file_id),
        report.item_ref,
        size,
        size,
        badge,
    )


def prompts(report: Report) -> str:
    meta = report.item_metadata or {}
    rows = [
        ("Prompt", meta.get("rawPositivePrompt", "")),
        (
            "Filtered",
            meta.get("filteredPositivePrompt", "")
            if meta.get("filteredPositivePrompt") != meta.get("rawPositivePrompt")
            else "",
        ),
        ("Negative", meta.get("rawNegativePrompt", "")),
        ("Workflow", meta.get("workflowUsed", "")),
        ("Model", meta.get("modelId", "")),
    ]
    rows = [(label, value) for label, value in rows if value]
    if not rows:
        return "(no prompt)"
    return format_html(
        '<div class="report-prompts" style="max-width:420px;white-space:pre-wrap">{}</div>',
        format_html_join("", "<div><strong>{}:</strong> {}</div>", rows),
    )


def _abuse_level_url(report: Report) -> str:
    return reverse("admin:reports_report_abuse_level", args=[report.pk])


def author_history(report: Report, history: dict | None, *, can_moderate: bool) -> str:
    """Flags, abuse level and past reports of the item's author, with the links a moderator needs."""
    if report.author_id is None:
        return "guest (no account)"
    author = report.author
    history = history or {}
    closed = reverse("admin:reports_closedreport_changelist") + "?" + urlencode({"author": report.author_id})
    state = " (disabled)" if (author.deleted_at or not author.is_active) else ""
    link = (
        format_html(' · <a class="set-abuse-level" href="{}">Set abuse level</a>', _abuse_level_url(report))
        if can_moderate
        else ""
    )
    return format_html(
        '<div class="author-history"><strong>{}</strong>{}<br>abuse level {}; {} flagged item(s)<br>'
        "reports: {} pending, {} accepted, {} declined, {} automatically declined<br>"
        '<a href="{}">Past reports</a>{}</div>',
        author.email,
        state,
        author.abuse_level,
        history.get("flags", 0),
        history.get("pending", 0),
        history.get("accepted", 0),
        history.get("declined", 0),
        history.get("automaticallyDeclined", 0),
        closed,
        link,
    )


def _who(report: Report) -> str:
    if report.reporter_id:
        return report.reporter.email
    return f"system ({report.get_source_display()})"


def reports_on_item(reports: list) -> str:
    """The open reports of one item: queue, who filed it, when, and their words."""
    rows = [
        (
            report.queue.name,
            _who(report),
            f"{report.created_at:%Y-%m-%d %H:%M}",
            report.additional_information or "—",
        )
        for report in reports
    ]
    return format_html(
        '<ul class="reports-on-item" style="margin:0;padding-left:1em">{}</ul>',
        format_html_join("", "<li><strong>{}</strong> by {} on {}: {}</li>", rows),
    )


def decision_buttons(report: Report) -> str:
    """A note and Accept / Decline buttons that submit the page's decide form (outside any other form)."""
    return format_html(
        '<div class="report-decision">'
        '<input type="text" name="note-{}" form="decide-form" placeholder="note (optional)" maxlength="{}" '
        'aria-label="note for report {}"> '
        '<button type="submit" class="button accept-report" form="decide-form" name="decision" '
        'value="accepted:{}">Accept</button> '
        '<button type="submit" class="button decline-report" form="decide-form" name="decision" '
        'value="declined:{}">Decline</button></div>',
        report.pk,
        services.MAX_NOTE_CHARS,
        report.pk,
        report.pk,
        report.pk,
    )


# --- filters ----------------------------------------------------------------------------------------------


class AuthorFilter(admin.SimpleListFilter):
    """Reports on items of one author: picked from an author's "Past reports" link (``?author=<id>``)."""

    title = "author"
    parameter_name = "author"

    def lookups(self, request, model_admin):
        from apps.accounts.models import User

        author_id = _uuid_or_none(self.value()) if self.value() else None
        if author_id is None:
            return ()
        user = User.all_objects.filter(pk=author_id).only("email").first()
        return ((self.value(), user.email if user else self.value()),)

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        author_id = _uuid_or_none(self.value())
        return queryset.filter(author_id=author_id) if author_id else queryset.none()


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in ReportQueue.objects.values_list("pk", "name")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        queue_id = _uuid_or_none(self.value())
        return queryset.filter(queue_id=queue_id) if queue_id else queryset.none()


class PendingQueueFilter(QueueFilter):
    """Items with an open report in the queue (the row stands for every open report on its item)."""

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        queue_id = _uuid_or_none(self.value())
        if queue_id is None:
            return queryset.none()
        in_queue = Report.objects.filter(status=Status.PENDING, queue_id=queue_id).values("item_ref")
        return queryset.filter(item_ref__in=Subquery(in_queue))


class ClosedStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(status.value, status.label) for status in Status if status != Status.PENDING]

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


class NoteActionForm(ActionForm):
    note = forms.CharField(
        required=False,
        max_length=services.MAX_NOTE_CHARS,
        label="Note:",
        widget=forms.TextInput(attrs={"placeholder": "note for accept / decline", "size": 30}),
    )


# --- actions --------------------------------------------------------------------------------------------------


def _close(modeladmin, request, report_ids, status: str, note: str) -> None:
    try:
        results = services.close_reports(
            report_ids=report_ids,
            status=status,
            actor=request.user,
            note=note,
            close_related=True,
            source=ModerationEvent.Source.BACK_OFFICE,
        )
    except AtelierError as exc:
        modeladmin.message_user(request, exc.message, messages.ERROR)
        return
    done = [result for result in results if result.success]
    verb = "Accepted" if status == Status.ACCEPTED else "Declined"
    if done:
        extra = " (their items were deleted)" if status == Status.ACCEPTED else ""
        modeladmin.message_user(request, f"{verb} {len(done)} report(s){extra}.", messages.SUCCESS)
    for result in results:
        if not result.success:
            modeladmin.message_user(request, f"Report {result.id}: {result.message}", messages.WARNING)


@admin.action(description="Accept the selected reports (delete their items)", permissions=["close"])
def accept_reports(modeladmin, request, queryset):
    _close(
        modeladmin, request, list(queryset.values_list("pk", flat=True)), Status.ACCEPTED, request.POST.get("note", "")
    )


@admin.action(description="Decline the selected reports (keep their items)", permissions=["close"])
def decline_reports(modeladmin, request, queryset):
    _close(
        modeladmin, request, list(queryset.values_list("pk", flat=True)), Status.DECLINED, request.POST.get("note", "")
    )


@admin.action(description="Download the selected reports as CSV (Epoch)", permissions=["export"])
def download_csv(modeladmin, request, queryset):
    out = io.StringIO()
    services.export_reports(
        reports=Report.objects.filter(pk__in=list(queryset.values_list("pk", flat=True))),
        out=out,
        actor=request.user,
        source=ModerationEvent.Source.BACK_OFFICE,
    )
    return csv_download(out.getvalue())


class _Permissions:
    def has_close_permission(self, request):
        return request.user.has_perm(CLOSE)

    def has_export_permission(self, request):
        return request.user.has_perm(EXPORT)


class _ReportAdminBase(_Permissions, admin.ModelAdmin):
    """Reports change only through the services: no add, change or delete here."""

    list_select_related = ("item", "queue", "author", "reporter", "approver")
    list_per_page = 25
    search_fields = ("id__exact", "item_ref__exact", "author__email", "reporter__email")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changelist_instance(self, request):
        """Load, for the page shown, what the rows show besides the report: the author histories (one
        query) and, for pending reports, every open report on each item (one query)."""
        changelist = super().get_changelist_instance(request)
        rows = list(changelist.result_list)
        _attach_context(rows, request, group=self.group_by_item)
        return changelist

    def get_object(self, request, object_id, from_field=None):
        report = super().get_object(request, object_id, from_field)
        if report is not None:
            _attach_context([report], request, group=self.group_by_item)
        return report

    group_by_item = False

    @admin.display(description="item")
    def small_preview(self, obj):
        return preview(obj, size=96)

    @admin.display(description="item")
    def large_preview(self, obj):
        return preview(obj, size=320)

    @admin.display(description="prompts")
    def prompt_block(self, obj):
        return prompts(obj)

    @admin.display(description="author")
    def author_block(self, obj):
        history = getattr(obj, "_author_history", None)
        if history is None:
            history = selectors.author_report_history([obj.author_id]).get(obj.author_id, {})
        return author_history(obj, history, can_moderate=getattr(obj, "_can_moderate", False))

    @admin.display(description="queue", ordering="queue__name")
    def queue_name(self, obj):
        return obj.queue.name

    @admin.display(description="reported by")
    def reporter_label(self, obj):
        return _who(obj)


def _attach_context(rows: list, request, *, group: bool) -> None:
    histories = selectors.author_report_history(row.author_id for row in rows)
    can_moderate = request.user.has_perm(MODERATE_USER)
    can_close = request.user.has_perm(CLOSE)
    groups: dict = {}
    if group and rows:
        for report in (
            Report.objects.filter(item_ref__in=[row.item_ref for row in rows], status=Status.PENDING)
            .select_related("queue", "reporter")
            .order_by("created_at", "pk")
        ):
            groups.setdefault(report.item_ref, []).append(report)
    for row in rows:
        row._author_history = histories.get(row.author_id, {})
        row._can_moderate = can_moderate
        row._can_close = can_close
        row._group = groups.get(row.item_ref, [row])


def _oldest_pending_per_item():
    """Pending reports that are the oldest open report of their item: one row per item."""
    older = Report.objects.filter(item_ref=OuterRef("item_ref"), status=Status.PENDING).filter(
        Q(created_at__lt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk"))
    )
    on_item = (
        Report.objects.filter(item_ref=OuterRef("item_ref"), status=Status.PENDING)
        .order_by()
        .values("item_ref")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        PendingReport.objects.filter(status=Status.PENDING)
        .filter(~Exists(older))
        .annotate(open_on_item=Coalesce(Subquery(on_item, output_field=IntegerField()), 1))
    )


@admin.register(PendingReport)
class PendingReportAdmin(_ReportAdminBase):
    """The moderator's queue: one row per reported item, oldest first."""

    group_by_item = True
    list_display = ("item_and_decision", "details")
    list_display_links = None
    list_filter = (PendingQueueFilter, "source", AuthorFilter, ("created_at", admin.DateFieldListFilter))
    ordering = ("created_at", "id")
    actions = (accept_reports, decline_reports, download_csv)
    action_form = NoteActionForm
    readonly_fields = (
        "large_preview_detail",
        "prompt_block",
        "item_reports",
        "author_block",
        "decide",
        "item_ref",
        "created_at",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        return _oldest_pending_per_item().select_related(*self.list_select_related)

    def get_object(self, request, object_id, from_field=None):
        # The detail page of any open report (not only of an item's oldest one).
        report = (
            PendingReport.objects.select_related(*self.list_select_related)
            .filter(pk=_uuid_or_none(object_id), status=Status.PENDING)
            .first()
        )
        if report is not None:
            _attach_context([report], request, group=True)
        return report

    @admin.display(description="item")
    def large_preview_detail(self, obj):
        return preview(obj, size=640)

    @admin.display(description="open reports on this item", ordering="open_on_item")
    def item_reports(self, obj):
        return reports_on_item(getattr(obj, "_group", [obj]))

    @admin.display(description="prompts · open reports · author", ordering="open_on_item")
    def details(self, obj):
        return format_html(
            '<div class="report-details">{}<h4>Open reports on this item</h4>{}<h4>Author</h4>{}</div>',
            self.prompt_block(obj),
            self.item_reports(obj),
            self.author_block(obj),
        )

    @admin.display(description="item · decision")
    def item_and_decision(self, obj):
        return format_html('{}<div class="report-row-decision">{}</div>', self.large_preview(obj), self.decide(obj))

    @admin.display(description="decision")
    def decide(self, obj):
        detail = reverse("admin:reports_pendingreport_change", args=[obj.pk])
        link = format_html('<a class="report-detail-link" href="{}">Open the report</a>', detail)
        if not getattr(obj, "_can_close", False):
            return link
        return format_html("{}{}", decision_buttons(obj), link)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "title": "Pending reports, one row per reported item",
            **(extra_context or {}),
            "decide_url": reverse("admin:reports_report_decide"),
            "decide_next": request.get_full_path(),
        }
        return super().changelist_view(request, extra_context=extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "decide_url": reverse("admin:reports_report_decide"),
            "decide_next": reverse("admin:reports_pendingreport_changelist"),
        }
        return super().changeform_view(request, object_id, form_url, extra_context=extra_context)

    def get_urls(self):
        extra = [
            path("decide/", self.admin_site.admin_view(self.decide_view), name="reports_report_decide"),
            path(
                "<uuid:report_id>/abuse-level/",
                self.admin_site.admin_view(self.abuse_level_view),
                name="reports_report_abuse_level",
            ),
        ]
        return extra + super().get_urls()

    def decide_view(self, request):
        """One click on a row: accept or decline every open report on that item, with the row's note."""
        if request.method != "POST" or not self.has_close_permission(request):
            raise PermissionDenied
        status, _, report_id = (request.POST.get("decision") or "").partition(":")
        report_id = _uuid_or_none(report_id)
        if status not in (Status.ACCEPTED, Status.DECLINED) or report_id is None:
            self.message_user(request, "Choose Accept or Decline on a report.", messages.ERROR)
        else:
            note = request.POST.get(f"note-{report_id}", "")
            _close(self, request, [report_id], status, note)
        return HttpResponseRedirect(_safe_next(request, reverse("admin:reports_pendingreport_changelist")))

    def abuse_level_view(self, request, report_id):
        """Set the abuse level of a report's author (the accounts service), recorded as a decision."""
        if not request.user.has_perm(MODERATE_USER):
            raise PermissionDenied
        report = get_object_or_404(Report.objects.select_related("author", "queue"), pk=report_id)
        if report.author_id is None:
            self.message_user(request, "The item has no author account (a guest made it).", messages.WARNING)
            return HttpResponseRedirect(reverse("admin:reports_pendingreport_changelist"))
        form = AbuseLevelForm(request.POST or None, initial={"level": report.author.abuse_level})
        if request.method == "POST" and form.is_valid():
            try:
                services.set_author_abuse_level(
                    author=report.author,
                    level=form.cleaned_data["level"],
                    actor=request.user,
                    note=form.cleaned_data["note"],
                    report=report,
                    source=ModerationEvent.Source.BACK_OFFICE,
                )
            except AtelierError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    f"Set the abuse level of {report.author.email} to {form.cleaned_data['level']}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(_safe_next(request, reverse("admin:reports_pendingreport_changelist")))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Set the abuse level of {report.author.email}",
            "form": form,
            "report": report,
            "author": report.author,
            "history": selectors.author_report_history([report.author_id]).get(report.author_id, {}),
            "next": _safe_next(request, request.META.get("HTTP_REFERER", "")),
        }
        return TemplateResponse(request, "admin/reports/abuse_level.html", context)


class AbuseLevelForm(forms.Form):
    level = forms.TypedChoiceField(choices=ABUSE_LEVELS, coerce=int, label="Abuse level")
    note = forms.CharField(
        required=False, max_length=services.MAX_NOTE_CHARS, widget=forms.Textarea(attrs={"rows": 3}), label="Note"
    )


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return reverse("admin:reports_pendingreport_changelist")


@admin.register(ClosedReport)
class ClosedReportAdmin(_ReportAdminBase):
    """Closed reports, newest decision first, for review."""

    list_display = ("small_preview", "item_ref", "status", "queue_name", "reporter_label", "author_email", "decision")
    list_display_links = ("item_ref",)
    list_filter = (ClosedStatusFilter, QueueFilter, "source", AuthorFilter, ("processed_at", admin.DateFieldListFilter))
    ordering = ("-processed_at", "-id")
    actions = (download_csv,)
    readonly_fields = (
        "large_preview",
        "prompt_block",
        "item_ref",
        "status",
        "queue_name",
        "reporter_label",
        "additional_information",
        "author_block",
        "created_at",
        "approver",
        "processed_at",
        "approval_additional_information",
        "download_count",
        "download_last_at",
        "decisions",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(status=Status.PENDING)

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": "Closed reports", **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra_context)

    @admin.display(description="moderator's note", ordering="approval_additional_information")
    def moderator_note(self, obj):
        return obj.approval_additional_information

    @admin.display(description="author", ordering="author__email")
    def author_email(self, obj):
        if obj.author_id is None:
            return "guest (no account)"
        url = reverse("admin:reports_closedreport_changelist") + "?" + urlencode({"author": obj.author_id})
        return format_html('{}<br><a href="{}">Past reports</a>', obj.author.email, url)

    @admin.display(description="decision", ordering="processed_at")
    def decision(self, obj):
        who = obj.approver.email if obj.approver_id else "the system"
        when = timezone.localtime(obj.processed_at).strftime("%Y-%m-%d %H:%M") if obj.processed_at else ""
        note = obj.approval_additional_information
        return format_html(
            '<div class="report-decision-made">{} by {} on {}{}</div>',
            obj.get_status_display(),
            who,
            when,
            format_html("<br>“{}”", note) if note else "",
        )

    @admin.display(description="recorded decisions")
    def decisions(self, obj):
        events = ModerationEvent.objects.filter(report_id=obj.pk).order_by("created_at")
        rows = [
            (
                f"{event.created_at:%Y-%m-%d %H:%M}",
                event.get_kind_display(),
                event.actor_email or "the system",
                event.note,
            )
            for event in events
        ]
        if not rows:
            return "none"
        return format_html_join("", "<div>{} {} by {}: {}</div>", rows)


@admin.register(ReportQueue)
class ReportQueueAdmin(admin.ModelAdmin):
    """Every queue, with its open and closed reports one click away."""

    list_display = ("name", "kind", "is_active", "is_default", "position", "pending_link", "closed_link")
    list_filter = ("kind", "is_active")
    ordering = ("position", "name")
    fields = ("name", "kind", "description", "is_active", "position")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                pending_count=Count("reports", filter=Q(reports__status=Status.PENDING)),
                closed_count=Count("reports", filter=~Q(reports__status=Status.PENDING)),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ("kind",)  # a queue never changes kind
        return ()

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "kind":
            kwargs["choices"] = [(ReportQueue.Kind.USER, ReportQueue.Kind.USER.label)]  # the system makes its own
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = ReportQueueForm
        form = super().get_form(request, obj, **kwargs)
        if obj is not None and obj.is_default and "is_active" in form.base_fields:
            form.base_fields["is_active"].disabled = True
        return form

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.is_system or obj.is_default or obj.reports.exists()):
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="pending", ordering="pending_count")
    def pending_link(self, obj):
        url = reverse("admin:reports_pendingreport_changelist") + "?" + urlencode({"queue": obj.pk})
        return format_html('<a class="queue-pending" href="{}">{} pending</a>', url, obj.pending_count)

    @admin.display(description="closed", ordering="closed_count")
    def closed_link(self, obj):
        url = reverse("admin:reports_closedreport_changelist") + "?" + urlencode({"queue": obj.pk})
        return format_html('<a href="{}">{} closed</a>', url, obj.closed_count)


class ReportQueueForm(forms.ModelForm):
    class Meta:
        model = ReportQueue
        fields = ("name", "kind", "description", "is_active", "position")

    def clean_name(self):
        name = (self.cleaned_data.get("name") or "").strip()
        if "," in name:
            raise forms.ValidationError("A queue name cannot contain a comma (the API lists queues comma-separated).")
        if not name:
            raise forms.ValidationError("Give the queue a name.")
        return name


@admin.register(ModerationEvent)
class ModerationEventAdmin(admin.ModelAdmin):
    """Who decided what and when, with the note: written by the services only, never changed."""

    list_display = ("created_at", "kind", "source", "actor_email", "subject_email", "report_link", "note")
    list_filter = ("kind", "source", ("created_at", admin.DateFieldListFilter))
    search_fields = ("actor_email", "subject_email", "report_id__exact", "item_ref__exact")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="report")
    def report_link(self, obj):
        if obj.report_id is None:
            return "—"
        return format_html(
            '<a href="{}?{}">{}</a>',
            reverse("admin:reports_closedreport_changelist"),
            urlencode({"q": obj.report_id}),
            obj.report_id,
        )
