"""Tags under concurrent requests (PostgreSQL): the ten-tag cap holds and usage counts stay exact."""

import pytest
from rest_framework.test import APIClient

from apps.items.models import Item
from apps.tags.models import Tag
from tests.factories import UserFactory
from tests.folders.support import race
from tests.items.support import as_user, make_item

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def add(image, tags, headers):
    def call():
        response = APIClient().post(
            "/addTagsToItem", {"imageID": str(image.pk), "tags": tags}, format="json", **headers
        )
        return response.status_code, response.json()

    return call


def test_twenty_parallel_tag_adds_stop_at_ten():
    owner = UserFactory()
    item = make_item(owner)
    calls = [add(item, [f"tag{n}"], as_user(owner)) for n in range(20)]

    results = race(calls)

    assert sorted(status for status, _ in results) == [200] * 10 + [409] * 10
    assert len(Item.objects.get(pk=item.pk).tags) == 10
    assert Tag.objects.filter(usage_count=1).count() == 10
    assert sum(Tag.objects.values_list("usage_count", flat=True)) == 10


def test_one_tag_added_to_many_items_at_once_counts_each():
    owner = UserFactory()
    items = [make_item(owner) for _ in range(12)]
    calls = [add(item, ["shared", f"own{n}"], as_user(owner)) for n, item in enumerate(items)]
    calls += [add(items[0], ["shared"], as_user(owner)) for _ in range(4)]  # repeats change nothing

    results = race(calls)

    assert all(status == 200 for status, _ in results)
    assert Tag.objects.get(name="shared").usage_count == 12
    assert Tag.objects.filter(name__startswith="own", usage_count=1).count() == 12
