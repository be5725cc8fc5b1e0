"""Query filters of the subject lists (``include_public``, ``public`` and ``organization_id`` are the
ownership scoping of ``SartiqResourceViewSet``)."""

import django_filters
from django.db.models import Exists, OuterRef

from apps.styles.filters import StrictBooleanFilter

from .models import BodyType, Subject, SubjectAgeClass, SubjectBaseImage


class SubjectFilter(django_filters.FilterSet):
    age_class = django_filters.ChoiceFilter(choices=SubjectAgeClass.choices)
    body_type = django_filters.ChoiceFilter(choices=BodyType.choices)
    only_with_base_images = StrictBooleanFilter(method="filter_with_base_images")

    class Meta:
        model = Subject
        fields = ["age_class", "body_type"]

    def filter_with_base_images(self, queryset, name, value):
        """true: only subjects with at least one base image (of a live shot type); false: all."""
        if not value:
            return queryset
        live = SubjectBaseImage.objects.filter(subject=OuterRef("pk"), shot_type__deleted_at__isnull=True)
        return queryset.filter(Exists(live))
