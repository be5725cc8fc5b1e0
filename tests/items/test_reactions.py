"""AIMG reactions over HTTP: likeItems, unlikeItems, dislikeItems, undislikeItems."""

import threading
import uuid

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction
from rest_framework.test import APIClient

from apps.items.models import Item, Reaction
from tests.factories import UserFactory

from .support import NOT_SIGNED_IN, as_session, as_user, make_folder, make_item, ok, session_for

pytestmark = pytest.mark.django_db
NOT_FOUND = "No item with this id exists, or you may not see it."


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def owner():
    return UserFactory()


def post(client, path, ids, headers):
    return client.post(path, {"imageIDs": [str(i) for i in ids]}, format="json", **headers)


def counts(item) -> tuple[int, int]:
    item.refresh_from_db()
    return item.like_count, item.dislike_count


def test_like_then_dislike_then_undislike(client, owner):
    item = make_item(owner)
    headers = as_user(owner)

    assert post(client, "/likeItems", [item.pk], headers).json() == ok([{"id": str(item.pk), "success": True}])
    assert counts(item) == (1, 0)
    assert client.get("/getItem", {"imageID": str(item.pk)}, **headers).json()["payload"]["isLiked"] is True

    post(client, "/likeItems", [item.pk], headers)  # liking twice changes nothing
    assert counts(item) == (1, 0)

    post(client, "/dislikeItems", [item.pk], headers)  # a dislike replaces the like
    assert counts(item) == (0, 1)
    assert Reaction.objects.get(item=item).kind == "dislike"
    payload = client.get("/getItem", {"imageID": str(item.pk)}, **headers).json()["payload"]
    assert (payload["isLiked"], payload["isDisliked"]) == (False, True)

    post(client, "/unlikeItems", [item.pk], headers)  # no like to remove: the dislike stays
    assert counts(item) == (0, 1)
    post(client, "/likeItems", [item.pk], headers)  # a like replaces the dislike
    assert counts(item) == (1, 0)
    post(client, "/unlikeItems", [item.pk], headers)
    assert counts(item) == (0, 0)
    post(client, "/dislikeItems", [item.pk], headers)
    post(client, "/undislikeItems", [item.pk], headers)
    assert counts(item) == (0, 0)
    assert not Reaction.objects.filter(item=item).exists()


def test_reactions_belong_to_the_requester(client, owner):
    folder = make_folder(owner, public=True)
    item = make_item(owner, is_public=True, public_approval_status="approved", folder=folder)
    fan = UserFactory()
    post(client, "/likeItems", [item.pk], as_user(fan))
    payload = client.get("/getItem", {"imageID": str(item.pk)}, **as_user(owner)).json()["payload"]
    assert (payload["likeCount"], payload["isLiked"]) == (1, False)


def test_results_follow_the_ids_sent(client, owner):
    mine = make_item(owner)
    private = make_item(UserFactory())
    unknown = uuid.uuid4()
    deleted = make_item(owner)
    deleted.delete()
    body = post(client, "/likeItems", [mine.pk, private.pk, unknown, deleted.pk, mine.pk], as_user(owner)).json()
    assert body["payload"] == [
        {"id": str(mine.pk), "success": True},
        {"id": str(private.pk), "success": False, "message": NOT_FOUND},
        {"id": str(unknown), "success": False, "message": NOT_FOUND},
        {"id": str(deleted.pk), "success": False, "message": NOT_FOUND},
        {"id": str(mine.pk), "success": True},
    ]
    assert counts(mine) == (1, 0)
    assert counts(private) == (0, 0)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"imageIDs": []},
        {"imageIDs": "not-a-list"},
        {"imageIDs": ["not-a-uuid"]},
        {"imageIDs": [12]},
        {"imageIDs": [str(uuid.uuid4()) for _ in range(1001)]},
    ],
)
@pytest.mark.parametrize("path", ["/likeItems", "/unlikeItems", "/dislikeItems", "/undislikeItems"])
def test_reactions_refuse_bad_input(client, owner, path, body):
    response = client.post(path, body, format="json", **as_user(owner))
    assert response.status_code == 400
    assert response.json()["hasError"] is True


def test_a_thousand_ids_are_accepted(client, owner):
    item = make_item(owner)
    ids = [item.pk] + [uuid.uuid4() for _ in range(999)]
    body = post(client, "/likeItems", ids, as_user(owner)).json()
    assert len(body["payload"]) == 1000
    assert body["payload"][0]["success"] is True


@pytest.mark.parametrize("path", ["/likeItems", "/dislikeItems"])
def test_reactions_need_a_signed_in_user(client, owner, path):
    item = make_item(None, guest_session=session_for())
    for headers in ({}, as_session(item.guest_session)):
        response = post(client, path, [item.pk], headers)
        assert response.status_code == 401
        assert response.json()["errorMessage"] == NOT_SIGNED_IN
    assert counts(item) == (0, 0)


def test_reaction_methods_are_post_only(client, owner):
    assert client.get("/likeItems", **as_user(owner)).status_code == 405


def test_the_database_holds_one_reaction_per_user_and_item(owner):
    item = make_item(owner)
    Reaction.objects.create(user=owner, item=item, kind="like")
    with pytest.raises(IntegrityError), transaction.atomic():
        Reaction.objects.create(user=owner, item=item, kind="dislike")


def free_connection_slots() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_connections')::int - (SELECT count(*) FROM pg_stat_activity)")
        return cursor.fetchone()[0]


def post_image(path, item, header):
    return APIClient().post(path, {"imageIDs": [str(item.pk)]}, format="json", **header)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_hundred_concurrent_likes_count_exactly():
    owner = UserFactory()
    folder = make_folder(owner, public=True)
    item = make_item(owner, is_public=True, public_approval_status="approved", folder=folder)
    fans = [UserFactory() for _ in range(100)]
    headers = [as_user(fan) for fan in fans]
    barrier = threading.Barrier(len(fans), timeout=120)
    statuses, errors = [], []
    # All 100 race from one barrier; at most as many hold a database connection at once as the
    # server has free slots (PostgreSQL's default max_connections is 100, the test holds one too).
    gate = threading.BoundedSemaphore(max(10, min(len(fans), free_connection_slots() - 10)))

    def like(header):
        try:
            barrier.wait()
            with gate:
                try:
                    response = post_image("/likeItems", item, header)
                finally:
                    close_old_connections()
                    connection.close()
            statuses.append((response.status_code, response.json()["payload"][0]["success"]))
        except Exception as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=like, args=(h,)) for h in headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert statuses == [(200, True)] * 100
    assert Item.objects.get(pk=item.pk).like_count == 100
    assert Reaction.objects.filter(item=item, kind="like").count() == 100


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_user_racing_like_and_dislike_keeps_counts_consistent():
    fan = UserFactory()
    item = make_item(fan)
    headers = [as_user(fan) for _ in range(20)]
    barrier = threading.Barrier(len(headers), timeout=120)
    errors = []

    def react(i, header):
        try:
            barrier.wait()
            path = "/likeItems" if i % 2 else "/dislikeItems"
            response = post_image(path, item, header)
            assert response.status_code == 200
        except Exception as exc:  # reported below
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=react, args=(i, h)) for i, h in enumerate(headers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    reaction = Reaction.objects.get(item=item, user=fan)
    item.refresh_from_db()
    assert (item.like_count, item.dislike_count) == ((1, 0) if reaction.kind == "like" else (0, 1))
