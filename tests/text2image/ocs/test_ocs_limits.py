"""Rate limits of the OCS APIs: schedule allows 20 per 120 s per signed-in user and 5 per 120 s per
anonymous IP (the 21st and the 6th answer 429), in a sliding window; repeated 404 answers to task
lookups from one IP end in 429 (anti-enumeration)."""

import time
from unittest import mock

import pytest

from apps.text2image.models import Text2ImageTask, TextProcessingTask
from apps.text2image.services import ocs_limits
from tests.text2image.ocs.support import (
    ARTICLE,
    OCS_HEADER,
    TOPICS,
    basic_for,
    ocs_json,
    ocs_xml,
    url,
    v1_meta,
    v2_meta,
)

pytestmark = pytest.mark.django_db


def schedule_text(client, who=None, *, version=2, ip="203.0.113.7"):
    payload = {"input": ARTICLE, "type": TOPICS, "appId": "assistant"}
    return client.post(
        url(version, "textprocessing/schedule?format=json"),
        payload,
        format="json",
        REMOTE_ADDR=ip,
        **OCS_HEADER,
        **(who or {}),
    )


def schedule_image(client, who=None, *, version=2, ip="203.0.113.7"):
    payload = {"input": "a fox", "appId": "assistant", "numberOfImages": 1}
    return client.post(
        url(version, "text2image/schedule?format=json"),
        payload,
        format="json",
        REMOTE_ADDR=ip,
        **OCS_HEADER,
        **(who or {}),
    )


@pytest.mark.parametrize("version", [1, 2])
def test_the_21st_schedule_of_a_user_within_120_s_is_429(client, user, other_user, version):
    statuses = [schedule_text(client, basic_for(user), version=version).status_code for _ in range(20)]
    assert statuses == [200] * 20
    refused = schedule_text(client, basic_for(user), version=version)
    assert refused.status_code == (429 if version == 2 else 200)
    ocs = ocs_json(refused)
    message = "Rate limit exceeded"
    assert ocs["meta"] == (v2_meta(429, message) if version == 2 else v1_meta(429, message))
    assert ocs["data"] == {"message": message}
    assert TextProcessingTask.objects.filter(owner=user).count() == 20
    # The limit is the user's: another user from the same address is not affected.
    assert schedule_text(client, basic_for(other_user), version=version).status_code == 200


def test_the_6th_anonymous_schedule_from_one_ip_within_120_s_is_429(client):
    assert [schedule_text(client).status_code for _ in range(5)] == [200] * 5
    refused = schedule_text(client)
    assert refused.status_code == 429
    meta, _data = ocs_xml(
        client.post(
            url(2, "textprocessing/schedule"),
            {"input": "x", "type": TOPICS, "appId": "a"},
            format="json",
            REMOTE_ADDR="203.0.113.7",
            **OCS_HEADER,
        )
    )
    assert meta == [("status", "failure"), ("statuscode", "429"), ("message", "Rate limit exceeded")]
    assert TextProcessingTask.objects.count() == 5
    # Another address has its own allowance, and signed-in users are counted per user.
    stranger = client.__class__(raise_request_exception=False)
    assert schedule_text(stranger, ip="198.51.100.1").status_code == 200


def test_text2image_and_textprocessing_have_separate_allowances(client, ocs_model):
    assert [schedule_image(client).status_code for _ in range(5)] == [200] * 5
    assert schedule_image(client).status_code == 429
    assert schedule_text(client).status_code == 200
    assert Text2ImageTask.objects.count() == 5


def test_refused_attempts_do_not_count_and_the_window_slides(client, user):
    """Nextcloud counts the attempts of the last 120 seconds; a refused one is not counted."""
    start = time.time()
    with mock.patch("apps.text2image.services.ocs_limits.time.time", return_value=start):
        assert [schedule_text(client, basic_for(user)).status_code for _ in range(20)] == [200] * 20
    with mock.patch("apps.text2image.services.ocs_limits.time.time", return_value=start + 60):
        assert [schedule_text(client, basic_for(user)).status_code for _ in range(3)] == [429] * 3
    with mock.patch("apps.text2image.services.ocs_limits.time.time", return_value=start + 119):
        assert schedule_text(client, basic_for(user)).status_code == 429
    with mock.patch("apps.text2image.services.ocs_limits.time.time", return_value=start + 121):
        assert schedule_text(client, basic_for(user)).status_code == 200


def test_fetching_tasks_is_not_rate_limited(client, user):
    task = ocs_json(schedule_text(client, basic_for(user)))["data"]["task"]
    for _ in range(30):
        response = client.get(url(2, f"textprocessing/task/{task['id']}?format=json"), **OCS_HEADER, **basic_for(user))
        assert response.status_code == 200


def test_the_limits_are_settings(client, user, settings):
    settings.OCS_SCHEDULE_USER_LIMIT = 2
    assert [schedule_text(client, basic_for(user)).status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize(
    "path",
    [
        "textprocessing/task/{id}",
        "text2image/task/{id}",
        "text2image/task/{id}/image/0",
    ],
)
def test_repeated_404_lookups_from_one_ip_end_in_429(client, user, settings, path):
    settings.OCS_NOT_FOUND_LIMIT = 5
    task = ocs_json(schedule_text(client, basic_for(user)))["data"]["task"]
    missing = [
        client.get(url(2, path.format(id=900_000 + n) + "?format=json"), REMOTE_ADDR="192.0.2.9", **OCS_HEADER)
        for n in range(5)
    ]
    assert [response.status_code for response in missing] == [404] * 5
    throttled = client.get(url(2, path.format(id=900_100) + "?format=json"), REMOTE_ADDR="192.0.2.9", **OCS_HEADER)
    assert throttled.status_code == 429
    assert ocs_json(throttled)["data"] == {"message": "Reached maximum delay"}
    # Even a lookup that would succeed is throttled for that address (as Nextcloud's maximum delay)...
    own = client.get(
        url(2, f"textprocessing/task/{task['id']}?format=json"),
        REMOTE_ADDR="192.0.2.9",
        **OCS_HEADER,
        **basic_for(user),
    )
    assert own.status_code == 429
    # ...but not for another address.
    elsewhere = client.get(
        url(2, f"textprocessing/task/{task['id']}?format=json"),
        REMOTE_ADDR="192.0.2.10",
        **OCS_HEADER,
        **basic_for(user),
    )
    assert elsewhere.status_code == 200


def test_found_lookups_do_not_count_towards_the_throttle(client, user, settings):
    settings.OCS_NOT_FOUND_LIMIT = 3
    task = ocs_json(schedule_text(client, basic_for(user)))["data"]["task"]
    for _ in range(10):
        response = client.get(
            url(2, f"textprocessing/task/{task['id']}?format=json"),
            REMOTE_ADDR="192.0.2.11",
            **OCS_HEADER,
            **basic_for(user),
        )
        assert response.status_code == 200


def test_the_window_counter_sums_its_buckets():
    start = 1_000_000.0
    with mock.patch("apps.text2image.services.ocs_limits.time.time", return_value=start):
        assert [ocs_limits.attempt("probe", limit=3, period=120) for _ in range(4)] == [True, True, True, False]
        assert ocs_limits.count("probe", period=120) == 3
    with mock.patch("apps.text2image.services.ocs_limits.time.time", return_value=start + 120.5):
        assert ocs_limits.count("probe", period=120) == 0
        assert ocs_limits.attempt("probe", limit=3, period=120)
