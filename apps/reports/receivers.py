"""Listeners of other apps' signals: the generation engine's prompt-policy flags become system reports."""

import logging

from django.db import transaction
from django.dispatch import receiver

from apps.text2image.signals import generation_flagged

from . import services

logger = logging.getLogger("atelier.reports")


@receiver(generation_flagged, dispatch_uid="reports.file_prompt_policy_reports")
def file_prompt_policy_reports(sender, *, items=(), terms=(), prompt="", filtered_prompt="", **kwargs):
    """One system report per item in the Prompt Policy queue. A failure here is logged and never
    fails the generation that sent the flag (the items are saved by then)."""
    items = list(items)
    try:
        with transaction.atomic():  # a savepoint: a failure leaves the sender's transaction usable
            services.flag_prompt_policy(items=items, terms=list(terms), prompt=prompt, filtered_prompt=filtered_prompt)
    except Exception:
        logger.exception("Could not file the prompt-policy reports of %d item(s).", len(items))
