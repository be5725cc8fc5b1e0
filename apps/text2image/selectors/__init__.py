"""Reads of the generation engine. One module per area; the names other apps use are re-exported here."""

from .catalogue import enabled_models, get_model
from .jobs import get_job, job_for_item, job_items, queue_position
from .workflows import workflow_template_for_guideline

__all__ = [
    "enabled_models",
    "get_job",
    "get_model",
    "job_for_item",
    "job_items",
    "queue_position",
    "workflow_template_for_guideline",
]
