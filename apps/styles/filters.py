"""Query filters of the style list (``public``, ``owner_id`` and ``organization_id`` are the
ownership scoping of ``SartiqResourceViewSet``)."""

import django_filters
from django import forms
from django.db.models import Q

from .models import Style, StyleCategory

_TRUE = frozenset({"true", "1", "yes", "on", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "off", "f", "n"})


class StrictBooleanField(forms.Field):
    """A boolean query parameter as FastAPI reads one: true/false, 1/0, yes/no, on/off; anything
    else is an error (never silently ignored)."""

    default_error_messages = {"invalid": "Input should be a valid boolean, unable to interpret input."}

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class StyleFilter(django_filters.FilterSet):
    archived = StrictBooleanFilter()
    demo = StrictBooleanFilter()
    enabled = StrictBooleanFilter()
    style_category = django_filters.ChoiceFilter(choices=StyleCategory.choices)
    search = django_filters.CharFilter(method="filter_search", max_length=255)

    class Meta:
        model = Style
        fields = ["archived", "demo", "enabled", "style_category"]

    def filter_search(self, queryset, name, value):
        """Words of ``value`` (all of them) in the name, slug, description, brand, prompt keywords
        or tags, in any case."""
        for word in value.split():
            queryset = queryset.filter(
                Q(name__icontains=word)
                | Q(slug__icontains=word)
                | Q(description__icontains=word)
                | Q(brand__icontains=word)
                | Q(prompt_keywords__icontains=word)
                | Q(tags__icontains=word)
            )
        return queryset
