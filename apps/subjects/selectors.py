"""Reads on subjects: querysets with everything a response shows, permission-scoped lookups, and the
upload tasks a user may poll."""

from django.db.models import Prefetch, Q, QuerySet

from apps.core.sartiq.ownership import accessible_queryset, is_admin, member_organization_ids, organization_for

from .models import Subject, SubjectBaseImage, SubjectBaseImagesUploadTask, SubjectImage


def live_base_images() -> QuerySet:
    """Base images whose shot type is live, oldest first, with what BaseImagePublic shows."""
    return (
        SubjectBaseImage.objects.filter(shot_type__deleted_at__isnull=True)
        .select_related("shot_type", "media")
        .order_by("created_at", "id")
    )


def with_media(queryset: QuerySet) -> QuerySet:
    """``queryset`` of subjects with their images, base images and measurements (a page of any size
    is serialized in a constant number of queries)."""
    links = SubjectImage.objects.select_related("media").order_by("kind", "position")
    return queryset.select_related("cover_image", "portrait_image", "measurements").prefetch_related(
        Prefetch("image_links", queryset=links),
        Prefetch("base_images", queryset=live_base_images()),
    )


def subjects() -> QuerySet:
    """Live subjects, ready to be serialized."""
    return with_media(Subject.objects.all())


def live_subject(pk) -> Subject | None:
    return subjects().filter(pk=pk).first()


def subjects_for_admin(*, user, organization_id=None, body_type=None) -> QuerySet:
    """Every subject, soft-deleted ones too (administrators restore them), newest first; with
    ``organization_id``, that organization's (404 when it does not exist)."""
    queryset = with_media(Subject.all_objects.all())
    if organization_id is not None:
        queryset = queryset.filter(organization=organization_for(user=user, organization_id=organization_id))
    if body_type is not None:
        queryset = queryset.filter(body_type=body_type)
    return queryset.order_by("-created_at", "-id")


def subject_for_admin(pk) -> Subject | None:
    """The subject ``pk``, deleted or not."""
    return with_media(Subject.all_objects.filter(pk=pk)).first()


def subjects_of_user(*, user, owner, organization_id=None) -> QuerySet:
    """The live subjects ``owner`` owns, newest first; with ``organization_id`` only that
    organization's (404 when it does not exist)."""
    queryset = subjects().filter(owner=owner)
    if organization_id is not None:
        queryset = queryset.filter(organization=organization_for(user=user, organization_id=organization_id))
    return queryset.order_by("-created_at", "-id")


def data_images(subject: Subject) -> list:
    return _images(subject, SubjectImage.Kind.DATA)


def portfolio_images(subject: Subject) -> list:
    return _images(subject, SubjectImage.Kind.PORTFOLIO)


def _images(subject: Subject, kind: str) -> list:
    links = [link for link in subject.image_links.all() if link.kind == kind]
    return [link.media for link in sorted(links, key=lambda link: link.position)]


def base_images(subject: Subject) -> list[SubjectBaseImage]:
    """The subject's base images of live shot types, oldest first (from the prefetch when there is one)."""
    rows = [row for row in subject.base_images.all() if row.shot_type.deleted_at is None]
    return sorted(rows, key=lambda row: (row.created_at, row.pk))


def base_image_rows(subject: Subject, *, shot_type_id=None) -> QuerySet:
    queryset = live_base_images().filter(subject=subject)
    if shot_type_id is not None:
        queryset = queryset.filter(shot_type_id=shot_type_id)
    return queryset


def base_image_by_media(subject: Subject, media_id) -> SubjectBaseImage | None:
    return SubjectBaseImage.objects.filter(subject=subject, media_id=media_id).select_related("media").first()


def visible_subjects(*, user, organization=None) -> QuerySet:
    """The live subjects ``user`` may use in a resource of ``organization`` (None: a personal one):
    that organization's and the public ones; for a personal resource, the user's own, those of the
    user's organizations and the public ones. Superusers may use every subject."""
    queryset = Subject.objects.all()
    if is_admin(user):
        return queryset
    if organization is not None:
        return queryset.filter(Q(organization=organization) | Q(public=True))
    return accessible_queryset(queryset, user=user)


# --- upload tasks -------------------------------------------------------------------------------------


def upload_task_for(*, user, task_id) -> SubjectBaseImagesUploadTask | None:
    """The task ``task_id`` when ``user`` may follow it: the one who uploaded it, a member of its
    subject's organization, or a superuser."""
    queryset = SubjectBaseImagesUploadTask.objects.filter(pk=task_id)
    if not is_admin(user):
        queryset = queryset.filter(Q(owner=user) | Q(subject__organization_id__in=member_organization_ids(user)))
    return queryset.first()


def latest_upload_task(subject: Subject) -> SubjectBaseImagesUploadTask | None:
    return SubjectBaseImagesUploadTask.objects.filter(subject=subject).order_by("-created_at", "-id").first()


def base_images_of_shot_type(shot_type) -> list[SubjectBaseImage]:
    """Every subject's base image for ``shot_type`` (deleted subjects' too), with its media."""
    return list(SubjectBaseImage.objects.filter(shot_type=shot_type).select_related("media"))
