"""Celery entry points of the generation engine, one module per area (they call services only)."""

from .generation import *  # noqa: F403
from .ocs import *  # noqa: F403
from .workflows import *  # noqa: F403
