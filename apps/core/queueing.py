"""Sending Celery messages for a request: a broker that cannot take one is a clear 503.

``send`` publishes a task and turns a broker that cannot be reached (refused, timed out, a socket
error) into ``QueueUnavailable`` (HTTP 503 in every dialect: "The job queue is unreachable; nothing
was scheduled. Try again shortly.").

``send_after_commit`` is for work recorded in the database first: the message goes out once the
transaction that wrote the rows commits (a worker must find them), so a send that fails can no
longer roll that transaction back. It then calls ``undo``, which removes what was written for the
message (rows no worker has touched, stored files: nothing ran, nobody saw a result), and raises
``QueueUnavailable`` out of the commit into the view, which answers it. ``undo`` returns False when
the work went ahead after all (a worker took it through another message): then nothing is raised.

How long a send may take while the broker is down is bounded by the CELERY_BROKER_* settings
(``config/settings/base.py``; docs/operations.md, "Failure drills"). With
``CELERY_TASK_ALWAYS_EAGER`` the task runs inline and its own errors pass through unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from kombu.exceptions import OperationalError

from .errors import QueueUnavailable

logger = logging.getLogger("atelier.queue")

# What a broker that is down, unreachable or hanging raises while a message is published (kombu
# wraps connection errors in OperationalError; a bare socket error can still come through).
BROKER_ERRORS = (OperationalError, OSError)


def is_eager(task) -> bool:
    return bool(task.app.conf.task_always_eager)


def send(task, *, args=(), kwargs=None, **options):
    """``task.apply_async(args, kwargs, **options)``; QueueUnavailable when the broker cannot take it."""
    if is_eager(task):
        return _publish(task, args, kwargs, options)
    try:
        return _publish(task, args, kwargs, options)
    except BROKER_ERRORS as exc:
        logger.error("The broker did not take task %s: %s: %s", task.name, type(exc).__name__, exc)
        raise QueueUnavailable() from exc


def _publish(task, args, kwargs, options):
    # ``delay`` when there are no options: the same call, and what tests spy on.
    if options:
        return task.apply_async(args=args, kwargs=kwargs, **options)
    return task.delay(*args, **(kwargs or {}))


def send_after_commit(task, *, args=(), kwargs=None, undo: Callable[[], bool | None] | None = None, **options) -> None:
    """Send ``task`` once the current transaction commits (at once outside a transaction); when the
    broker cannot take it, ``undo()`` and raise QueueUnavailable (unless ``undo`` returns False)."""

    def deliver():
        try:
            send(task, args=args, kwargs=kwargs, **options)
        except QueueUnavailable:
            if undo is not None and undo() is False:
                logger.warning("Task %s was not sent, but its work is under way already", task.name)
                return
            raise

    transaction.on_commit(deliver)
