"""Helpers of the folders and tags tests: AIMG calls, errors, public items, and racing threads."""

import threading

from django.db import close_old_connections, connection

from apps.items.models import Item
from tests.items.support import make_item


def post(client, path: str, body: dict, headers: dict):
    return client.post(path, body, format="json", **headers)


def error(response, status: int) -> str:
    """The errorMessage of an AIMG error answer with this status (and nothing in the payload)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert body["hasError"] is True and body["payload"] is None
    return body["errorMessage"]


def payload(response, status: int = 200):
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert body["hasError"] is False and body["errorMessage"] is None
    return body["payload"]


def public_item(owner, **fields) -> Item:
    """An item its owner made public after approval: eligible for a public folder."""
    return make_item(owner, is_public=True, public_approval_status="approved", **fields)


def fresh(row):
    return type(row).all_objects.get(pk=row.pk)


# At most this many threads hold a database connection at once (the server is shared).
MAX_CONNECTIONS = 8


def race(calls) -> list:
    """Run each zero-argument callable in its own thread, all released at once; their results in order."""
    barrier = threading.Barrier(len(calls), timeout=120)
    gate = threading.BoundedSemaphore(MAX_CONNECTIONS)
    results, errors = [None] * len(calls), []

    def run(index, call):
        try:
            barrier.wait()
            with gate:
                try:
                    results[index] = call()
                finally:
                    close_old_connections()
                    connection.close()
        except Exception as exc:  # reported below: a thread's failure fails the test
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results
