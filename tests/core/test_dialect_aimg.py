"""AIMG dialect: envelope, credentials, keyset pagination and every error status, over HTTP."""

import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from django.utils import timezone

from apps.accounts import services
from apps.core.domains import default_domain
from tests.core.dialect_support import (
    FORBIDDEN,
    NOT_FOUND,
    NOT_SIGNED_IN,
    RATE_LIMITED,
    SERVER_ERROR,
    URLCONF,
    api,
    grant_moderator,
    millis,
    newest_first,
    organizations_at,
)
from tests.factories import StaffFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls(URLCONF)]

LIST = "/testAimgOrganizations"
LIST_WITH_TOTAL = "/2/testAimgOrganizations"
ANONYMOUS_ECHO = {
    "user": None,
    "session": None,
    "adminKey": False,
    "flag": True,
    "off": False,
    "nothing": None,
    "count": 3,
    "tags": ["a", "b"],
    "nested": {"key": "value"},
}


def error(message: str, **extra) -> dict:
    return {"hasError": True, "errorMessage": message, "payload": None, **extra}


def session_header(session) -> dict:
    return {"HTTP_X_SESSION_ID": str(session.pk)}


@pytest.fixture
def client():
    return api()


@pytest.fixture
def user():
    return UserFactory()


# --- success -------------------------------------------------------------------------------------


def test_success_is_the_payload_in_the_envelope_without_metadata(client):
    response = client.get("/testAimgEcho")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"hasError": False, "errorMessage": None, "payload": ANONYMOUS_ECHO}


def test_api2_paths_use_the_same_envelope(client):
    response = client.post("/2/testAimgEcho", {"name": "fox"}, format="json")
    assert response.status_code == 201
    assert response.json() == {"hasError": False, "errorMessage": None, "payload": {"name": "fox", "size": 1}}


def test_every_response_carries_a_request_id(client):
    for path in ("/testAimgEcho", "/testAimgMissing", "/testAimgNoSuchEndpoint", "/testAimgCrash"):
        response = client.get(path)
        assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"]), path


def test_the_clients_request_id_is_echoed_on_errors(client):
    response = client.get("/testAimgBadInput", HTTP_X_REQUEST_ID="front-end.42")
    assert response.status_code == 400
    assert response["X-Request-ID"] == "front-end.42"


# --- credentials ---------------------------------------------------------------------------------


def test_a_guest_session_authenticates_without_a_user(client):
    guest = services.create_session(domain=default_domain())
    response = client.get("/testAimgEcho", **session_header(guest))
    assert response.status_code == 200
    assert response.json()["payload"] == ANONYMOUS_ECHO | {"session": str(guest.pk)}


def test_a_signed_in_session_authenticates_its_user(client, user):
    session = services.create_session(domain=default_domain(), user=user)
    response = client.get("/testAimgSignedIn", **session_header(session))
    assert response.status_code == 200
    assert response.json()["payload"] == ANONYMOUS_ECHO | {"user": user.email, "session": str(session.pk)}


@pytest.mark.parametrize("state", ["unknown", "revoked", "expired"])
def test_an_unusable_session_is_no_session(client, user, state):
    session = services.create_session(domain=default_domain(), user=user)
    if state == "revoked":
        services.revoke_sessions(user=user)
    elif state == "expired":
        type(session).objects.filter(pk=session.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    session_id = uuid.uuid4() if state == "unknown" else session.pk
    response = client.get("/testAimgEcho", HTTP_X_SESSION_ID=str(session_id))
    assert response.status_code == 200
    assert response.json()["payload"] == ANONYMOUS_ECHO
    assert client.get("/testAimgSignedIn", HTTP_X_SESSION_ID=str(session_id)).status_code == 401


@pytest.mark.parametrize("value", ["not-a-uuid", "1234", "g" * 32, "' OR 1=1 --", "\u00e9" * 32])
def test_a_malformed_session_id_is_a_401_never_a_500(client, value):
    response = client.get("/testAimgEcho", HTTP_X_SESSION_ID=value)
    assert response.status_code == 401
    assert response.json() == error("The X-Session-ID header must be a valid UUID.")
    assert response["X-Request-ID"]


def test_an_admin_key_authenticates_as_its_staff_owner(client):
    staff = StaffFactory()
    _, secret = services.create_admin_key(user=staff)
    response = client.get("/testAimgSignedIn", HTTP_X_ADMINISTRATION_KEY=secret)
    assert response.status_code == 200
    assert response.json()["payload"] == ANONYMOUS_ECHO | {"user": staff.email, "adminKey": True}


@pytest.mark.parametrize("value", ["bogus", "akey_0123456789abcdef.wrong", "a\x00b.c", "akey_\u00e9.x"])
def test_an_invalid_admin_key_is_a_401(client, value):
    response = client.get("/testAimgEcho", HTTP_X_ADMINISTRATION_KEY=value)
    assert response.status_code == 401
    assert response.json() == error("The administration key is not valid.")
    assert response["WWW-Authenticate"] == 'Session header="X-Session-ID"'


def test_a_revoked_admin_key_is_a_401(client):
    staff = StaffFactory()
    key, secret = services.create_admin_key(user=staff)
    services.revoke_admin_keys(prefix=key.prefix)
    response = client.get("/testAimgEcho", HTTP_X_ADMINISTRATION_KEY=secret)
    assert response.status_code == 401
    assert response.json() == error("The administration key is not valid.")


# --- 401 / 403 -----------------------------------------------------------------------------------


def test_no_credentials_is_a_401(client):
    response = client.get("/testAimgSignedIn")
    assert response.status_code == 401
    assert response.json() == error(NOT_SIGNED_IN)


def test_a_guest_session_is_not_signed_in(client):
    guest = services.create_session(domain=default_domain())
    for path in ("/testAimgSignedIn", "/testAimgModerator"):
        response = client.get(path, **session_header(guest))
        assert response.status_code == 401, path
        assert response.json() == error(NOT_SIGNED_IN)


def test_a_user_without_the_permission_is_a_403(client, user):
    session = services.create_session(domain=default_domain(), user=user)
    response = client.get("/testAimgModerator", **session_header(session))
    assert response.status_code == 403
    assert response.json() == error(FORBIDDEN)


def test_an_admin_key_is_not_a_permission_by_itself(client):
    _, secret = services.create_admin_key(user=StaffFactory())
    response = client.get("/testAimgModerator", HTTP_X_ADMINISTRATION_KEY=secret)
    assert response.status_code == 403
    assert response.json() == error(FORBIDDEN)


def test_a_role_grants_the_permission(client, user):
    grant_moderator(user)
    session = services.create_session(domain=default_domain(), user=user)
    response = client.get("/testAimgModerator", **session_header(session))
    assert response.status_code == 200
    assert response.json()["payload"]["user"] == user.email


# --- 400 -----------------------------------------------------------------------------------------


def test_a_drf_validation_error_is_a_400_naming_the_field(client):
    response = client.post("/testAimgEcho", {"name": "x" * 21, "size": 11}, format="json")
    assert response.status_code == 400
    assert response.json() == error(
        "name: Ensure this field has no more than 20 characters.; size: Ensure this value is less than or equal to 10."
    )


def test_a_missing_field_is_a_400(client):
    response = client.post("/testAimgEcho", {}, format="json")
    assert response.status_code == 400
    assert response.json() == error("name: This field is required.")


def test_invalid_input_with_field_errors_is_a_400(client):
    response = client.get("/testAimgBadInput")
    assert response.status_code == 400
    assert response.json() == error("name: Pick a shorter name.; tags.1: Unknown tag.")


def test_invalid_input_with_an_application_code_carries_error_code(client):
    response = client.post("/testAimgBadInput")
    assert response.status_code == 400
    assert response.json() == error("The prompt is empty.", errorCode=1001)
    assert isinstance(response.json()["errorCode"], int)


def test_malformed_json_is_a_400(client):
    response = client.post("/testAimgEcho", "{not json", content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["hasError"] is True and body["payload"] is None
    assert body["errorMessage"].startswith("JSON parse error")


# --- 404 / 405 / 429 / 500 -----------------------------------------------------------------------


def test_not_found_keeps_the_services_message(client):
    response = client.get("/testAimgMissing")
    assert response.status_code == 404
    assert response.json() == error("No folder with the id 42.")


def test_http404_gives_a_generic_message(client):
    response = client.get("/testAimgDjangoMissing")
    assert response.status_code == 404
    assert response.json() == error(NOT_FOUND)


@pytest.mark.parametrize("path", ["/testAimgNoSuchEndpoint", "/2/noSuchEndpoint", "/getMyCreationz"])
def test_an_unknown_path_is_an_aimg_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == error(f"No endpoint at {path}.")


def test_a_wrong_method_is_a_405(client):
    response = client.put("/testAimgEcho")
    assert response.status_code == 405
    assert response.json() == error('Method "PUT" not allowed.')
    assert response["Allow"] == "GET, POST, HEAD, OPTIONS"
    assert client.post(LIST).status_code == 405


def test_asking_for_anything_but_json_is_a_406_in_json(client):
    response = client.get("/testAimgEcho", HTTP_ACCEPT="application/xml")
    assert response.status_code == 406
    assert response["Content-Type"] == "application/json"
    assert response.json() == error("Could not satisfy the request Accept header.")


def test_a_rate_limit_is_a_429(client):
    assert [client.get("/testAimgLimited").status_code for _ in range(2)] == [200, 200]
    response = client.get("/testAimgLimited")
    assert response.status_code == 429
    assert response.json() == error(RATE_LIMITED)


def test_a_crash_is_a_500_in_the_envelope_and_logged_with_the_request_id(client, caplog):
    with caplog.at_level(logging.ERROR, logger="atelier.errors"):
        response = client.get("/testAimgCrash")
    assert response.status_code == 500
    body = response.json()
    assert body == error(body["errorMessage"])
    request_id = SERVER_ERROR.match(body["errorMessage"])["id"]
    assert response["X-Request-ID"] == request_id
    [record] = [r for r in caplog.records if r.name == "atelier.errors"]
    assert request_id in record.getMessage()
    assert isinstance(record.exc_info[1], RuntimeError)


# --- keyset pagination ---------------------------------------------------------------------------

BASE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
# (millisecond after BASE, microseconds inside it): groups of 1, of exactly the page size, larger
# than the page size, rows with identical timestamps, and rows spread inside one millisecond.
LAYOUT = [
    (0, [0]),
    (1, [0, 0, 500]),
    (2, [999]),
    (5, [1, 2, 3, 4, 5, 6, 7]),
    (6, [100, 200]),
    (9, [0, 0, 0, 0, 0]),
    (10, [10]),
    (20, [1, 1, 900, 900]),
    (21, [0, 1, 2, 3, 4, 5]),
    (1000, [0]),
]


def layout_times():
    return [BASE + timedelta(milliseconds=ms, microseconds=us) for ms, offsets in LAYOUT for us in offsets]


def walk(client, path, *, limit, reverse=False, start=None):
    """Follow nextPaginationIndex from ``start`` to the end; the pages' metadata and payloads."""
    params = {"limit": limit}
    if reverse:
        params["reversePagination"] = "true"
    if start is not None:
        params["paginationIndex"] = start
    pages = []
    for _ in range(200):
        response = client.get(path, params)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append(body)
        next_index = body["metadata"]["nextPaginationIndex"]
        if next_index is None:
            return pages
        params["paginationIndex"] = next_index
    raise AssertionError("pagination did not end")


def assert_sound_pages(pages, *, limit, reverse, created):
    for page in pages:
        meta, ids = page["metadata"], [item["id"] for item in page["payload"]]
        assert meta["count"] == len(ids)
        assert meta["limit"] == limit
        assert meta["reversePagination"] is reverse
        page_millis = {millis(created[i]) for i in ids}
        # Over the limit only when a single millisecond holds more rows than the limit.
        assert len(ids) <= limit or len(page_millis) == 1
        if meta["nextPaginationIndex"] is not None:
            assert meta["nextPaginationIndex"] == str(millis(created[ids[-1]]))
    for page, following in pairwise(pages):
        # A page never ends inside a millisecond that the next page continues.
        last, first = page["payload"][-1]["id"], following["payload"][0]["id"]
        assert millis(created[last]) != millis(created[first])
        assert following["metadata"]["paginationIndex"] == page["metadata"]["nextPaginationIndex"]


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 7, 100])
def test_walking_forward_returns_every_row_once_newest_first(client, limit):
    organizations = organizations_at(layout_times())
    created = {str(o.pk): o.created_at for o in organizations}
    pages = walk(client, LIST, limit=limit)
    walked = [item["id"] for page in pages for item in page["payload"]]
    assert walked == newest_first(organizations)
    assert_sound_pages(pages, limit=limit, reverse=False, created=created)
    assert pages[0]["metadata"]["paginationIndex"] == "0"


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 7, 100])
def test_walking_reversed_returns_every_row_once_oldest_first(client, limit):
    organizations = organizations_at(layout_times())
    created = {str(o.pk): o.created_at for o in organizations}
    pages = walk(client, LIST, limit=limit, reverse=True)
    walked = [item["id"] for page in pages for item in page["payload"]]
    assert walked == newest_first(organizations)[::-1]
    assert_sound_pages(pages, limit=limit, reverse=True, created=created)


def test_a_group_larger_than_the_limit_comes_whole(client):
    organizations = organizations_at(layout_times())
    seven = {str(o.pk) for o in organizations if millis(o.created_at) == millis(BASE) + 5}
    pages = walk(client, LIST, limit=5)
    [page] = [p for p in pages if {item["id"] for item in p["payload"]} & seven]
    assert {item["id"] for item in page["payload"]} == seven
    assert page["metadata"]["count"] == 7
    assert page["metadata"]["limit"] == 5
    assert page["metadata"]["nextPaginationIndex"] == str(millis(BASE) + 5)


def test_a_single_oversized_group_ends_the_walk(client):
    organizations = organizations_at([BASE] * 4)
    response = client.get(LIST, {"limit": 2})
    meta = response.json()["metadata"]
    assert sorted(item["id"] for item in response.json()["payload"]) == sorted(str(o.pk) for o in organizations)
    assert meta["count"] == 4
    assert meta["nextPaginationIndex"] is None


def test_reversing_from_a_page_returns_the_page_before_it(client):
    organizations = organizations_at([BASE + timedelta(milliseconds=i) for i in range(10)])
    expected = newest_first(organizations)
    second = client.get(LIST, {"limit": 3, "paginationIndex": str(millis(BASE) + 7)}).json()
    assert [item["id"] for item in second["payload"]] == expected[3:6]
    newest_on_page = str(millis(BASE) + 6)
    before = client.get(LIST, {"limit": 3, "paginationIndex": newest_on_page, "reversePagination": "true"}).json()
    assert [item["id"] for item in before["payload"]] == expected[0:3][::-1]
    assert before["metadata"]["paginationIndex"] == newest_on_page
    assert before["metadata"]["nextPaginationIndex"] is None


def test_pagination_index_excludes_its_own_millisecond(client):
    organizations_at([BASE + timedelta(microseconds=us) for us in (0, 999)])
    older = organizations_at([BASE - timedelta(microseconds=1)])
    newer = organizations_at([BASE + timedelta(milliseconds=1)])
    forward = client.get(LIST, {"paginationIndex": str(millis(BASE))}).json()
    assert [item["id"] for item in forward["payload"]] == [str(older[0].pk)]
    reverse = client.get(LIST, {"paginationIndex": str(millis(BASE)), "reversePagination": "true"}).json()
    assert [item["id"] for item in reverse["payload"]] == [str(newer[0].pk)]


def test_metadata_defaults_and_types(client):
    organizations = organizations_at([BASE - timedelta(milliseconds=i) for i in range(3)])
    response = client.get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert body["hasError"] is False and body["errorMessage"] is None
    assert body["metadata"] == {
        "paginationIndex": "0",
        "nextPaginationIndex": None,
        "reversePagination": False,
        "skipCount": 0,
        "limit": 100,
        "count": 3,
    }
    assert body["payload"] == [
        {"id": str(o.pk), "name": o.name, "slug": o.slug, "domain": "default"} for o in organizations
    ]


def test_next_index_is_a_stringified_millisecond_integer(client):
    organizations_at([BASE + timedelta(milliseconds=i, microseconds=700) for i in range(3)])
    meta = client.get(LIST, {"limit": 2}).json()["metadata"]
    assert meta["nextPaginationIndex"] == str(millis(BASE) + 1)
    assert meta["count"] == 2


def test_total_count_where_the_view_asks_for_it(client):
    organizations_at([BASE + timedelta(milliseconds=i) for i in range(5)])
    meta = client.get(LIST_WITH_TOTAL, {"limit": 2, "paginationIndex": str(millis(BASE) + 4)}).json()["metadata"]
    assert meta == {
        "paginationIndex": str(millis(BASE) + 4),
        "nextPaginationIndex": str(millis(BASE) + 2),
        "reversePagination": False,
        "skipCount": 0,
        "limit": 2,
        "count": 2,
        "totalCount": 5,
    }


def test_limit_accepts_one_to_a_thousand(client):
    organizations_at([BASE])
    assert client.get(LIST, {"limit": 1000}).json()["metadata"]["limit"] == 1000
    assert client.get(LIST, {"limit": 1}).json()["metadata"]["limit"] == 1


def test_skip_count_pages_are_exact_offset_slices(client):
    organizations = organizations_at(layout_times())
    expected = newest_first(organizations)
    walked, skip = [], 0
    while True:
        body = client.get(LIST, {"limit": 4, "skipCount": skip}).json()
        meta = body["metadata"]
        assert meta["skipCount"] == skip
        walked += [item["id"] for item in body["payload"]]
        if skip:
            assert [item["id"] for item in body["payload"]] == expected[skip : skip + 4]
        if meta["nextPaginationIndex"] is None:
            break
        skip += meta["count"]
    assert walked == expected


def test_skip_count_inside_a_large_group_is_still_an_offset(client):
    organizations = organizations_at([BASE] * 6)
    expected = newest_first(organizations)
    body = client.get(LIST, {"limit": 2, "skipCount": 2}).json()
    assert [item["id"] for item in body["payload"]] == expected[2:4]
    assert body["metadata"]["count"] == 2
    assert body["metadata"]["nextPaginationIndex"] == str(millis(BASE))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 0}, "limit: Ensure this value is greater than or equal to 1."),
        ({"limit": 1001}, "limit: Ensure this value is less than or equal to 1000."),
        ({"limit": "ten"}, "limit: A valid integer is required."),
        ({"paginationIndex": "-1"}, "paginationIndex: Give a UNIX time in milliseconds (digits only)."),
        ({"paginationIndex": "yesterday"}, "paginationIndex: Give a UNIX time in milliseconds (digits only)."),
        ({"paginationIndex": "1e3"}, "paginationIndex: Give a UNIX time in milliseconds (digits only)."),
        (
            {"paginationIndex": "99999999999999999999"},
            "paginationIndex: Ensure this value is less than or equal to 253402300799999.",
        ),
        ({"reversePagination": "maybe"}, "reversePagination: Must be a valid boolean."),
        ({"skipCount": "-3"}, "skipCount: Ensure this value is greater than or equal to 0."),
        ({"skipCount": str(10**20)}, "skipCount: Ensure this value is less than or equal to 2147483647."),
    ],
)
def test_invalid_pagination_parameters_are_a_400(client, params, message):
    response = client.get(LIST, params)
    assert response.status_code == 400
    assert response.json() == error(message)


def test_the_last_representable_index_pages_without_error(client):
    organizations_at([BASE])
    for reverse in ("false", "true"):
        response = client.get(LIST, {"paginationIndex": "253402300799999", "reversePagination": reverse})
        assert response.status_code == 200
        assert response.json()["metadata"]["count"] == (1 if reverse == "false" else 0)


# --- query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [5, 50])
def test_a_page_is_one_query_whatever_its_size(client, django_assert_num_queries, limit):
    organizations_at([BASE + timedelta(milliseconds=i) for i in range(60)])
    with django_assert_num_queries(1):
        response = client.get(LIST, {"limit": limit})
    assert response.json()["metadata"]["count"] == limit


@pytest.mark.parametrize("limit", [5, 50])
def test_total_count_adds_one_query(client, django_assert_num_queries, limit):
    organizations_at([BASE + timedelta(milliseconds=i) for i in range(60)])
    with django_assert_num_queries(2):
        response = client.get(LIST_WITH_TOTAL, {"limit": limit})
    assert response.json()["metadata"]["totalCount"] == 60


@pytest.mark.parametrize("size", [3, 30])
def test_an_oversized_group_costs_a_constant_number_of_queries(client, django_assert_num_queries, size):
    organizations_at([BASE] * (size + 2) + [BASE - timedelta(seconds=1)])
    with django_assert_num_queries(3):
        response = client.get(LIST, {"limit": size})
    assert response.json()["metadata"]["count"] == size + 2
    assert response.json()["metadata"]["nextPaginationIndex"] == str(millis(BASE))


def test_a_signed_in_page_costs_the_same_whatever_its_size(client, django_assert_max_num_queries, user):
    organizations_at([BASE + timedelta(milliseconds=i) for i in range(60)])
    session = services.create_session(domain=default_domain(), user=user)
    client.get(LIST, **session_header(session))  # resolves and caches the request's domain
    counts = []
    for limit in (5, 50):
        with django_assert_max_num_queries(10) as captured:
            client.get(LIST, {"limit": limit}, **session_header(session))
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
