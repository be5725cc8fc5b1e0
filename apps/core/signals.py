"""Signal wiring of the core app: domain cache invalidation, request ids in Celery tasks."""

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .context import clean_request_id, current_request_id, request_id_var
from .domains import forget_cached_domains
from .models import Domain, DomainHost


@receiver([post_save, post_delete], sender=Domain)
@receiver([post_save, post_delete], sender=DomainHost)
def _domains_changed(**kwargs):
    forget_cached_domains()


NO_REQUEST_ID = "-"  # request_id_var's default: outside any request or task


@before_task_publish.connect
def _attach_request_id(headers=None, **kwargs):
    """A task sent while handling a request (or another task) carries that request's id."""
    request_id = current_request_id()
    if headers is not None and "request_id" not in headers and request_id != NO_REQUEST_ID:
        headers["request_id"] = request_id


_task_tokens = {}


@task_prerun.connect
def _restore_request_id(task_id=None, task=None, **kwargs):
    """The request id the task was sent with; an eager task keeps its caller's."""
    request_id = getattr(task.request, "request_id", None) if task else None
    if request_id and request_id != NO_REQUEST_ID:
        request_id = clean_request_id(request_id)
    elif current_request_id() != NO_REQUEST_ID:
        request_id = current_request_id()
    else:
        request_id = f"task-{task_id}"
    _task_tokens[task_id] = request_id_var.set(request_id)


@task_postrun.connect
def _clear_request_id(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        request_id_var.reset(token)
