"""Back office of the generation engine, one module per area."""

from . import engine, ocs, workflows  # noqa: F401
