"""FilterSets of the guidelines lists (applied after ownership scoping)."""

import django_filters
from django.db.models import Q

from .models import Framing, ShotType, ViewAngle


class ShotTypeFilter(django_filters.FilterSet):
    framing = django_filters.ChoiceFilter(choices=Framing.choices)
    view_angle = django_filters.ChoiceFilter(choices=ViewAngle.choices)
    search = django_filters.CharFilter(method="filter_search", max_length=200)

    class Meta:
        model = ShotType
        fields = ["framing", "view_angle", "search"]

    def filter_search(self, queryset, name, value):
        """Words of ``value`` found (case-insensitively) in the name, prompt or instruction."""
        for word in value.split():
            queryset = queryset.filter(
                Q(name__icontains=word) | Q(prompt__icontains=word) | Q(shot_type_prompt_instruction__icontains=word)
            )
        return queryset
