"""Answers to ``OPTIONS`` requests (CORS preflights, API explorers) for every dialect.

DRF's default metadata describes the view's serializer fields, which fails on views that validate
their input with several serializers (most RPC-style AIMG views) and would publish view docstrings.
An ``OPTIONS`` answer here names the view and its allowed methods, nothing more; the ``Allow``
header carries the same list.
"""

from rest_framework.metadata import BaseMetadata


class DialectMetadata(BaseMetadata):
    def determine_metadata(self, request, view):
        return {"name": view.get_view_name(), "methods": sorted(view.allowed_methods)}
