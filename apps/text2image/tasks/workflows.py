"""Celery tasks: workflows."""

__all__: list[str] = []
