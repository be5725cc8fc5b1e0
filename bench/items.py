"""Library pagination at scale: getMyCreations and getPublicCreations on a large PostgreSQL table.

    DATABASE_URL=postgres://USER@HOST:5432/atelier_bench python bench/items.py [--items N] [--users M]
        [--small] [--repeat R] [--reset]

The database must be a PostgreSQL database of its own (it is migrated, and bench rows are added to
it). The dataset is generated once, server-side (``INSERT … SELECT generate_series``), and reused
by later runs of the same size; ``--reset`` drops it first. Default: 1,000,000 items over 10,000
users; ``--small``: 50,000 items over 500 users.

One "heavy" user owns 60 % of the items, so that their library can be paged to a depth of half the
dataset; the other users share the rest. 80 % of the items are public, approved and in one public
folder (only items of a public folder are publicly visible, so getPublicCreations has pages to
serve). Reference timestamps step
by 7 ms with every fifth pair of items sharing a millisecond.

Measured, for ``limit=100`` (median of ``--repeat`` runs after a warm-up, over HTTP through
Django's test client, in-process):
- the first page, and a page reached by ``paginationIndex`` at a depth of half the dataset;
- the same depth reached by ``skipCount`` (offset pagination: slow by nature);
- the bare SQL of the page query and of the ``totalCount`` query, and the API / SQL time ratio;
- the number of queries per request.
"""

import argparse
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from apps.accounts import services as accounts  # noqa: E402
from apps.accounts.models import User  # noqa: E402
from apps.core.dialects.aimg import millisecond_bounds, to_millis  # noqa: E402
from apps.core.domains import default_domain  # noqa: E402
from apps.folders.models import Folder  # noqa: E402
from apps.items import selectors  # noqa: E402
from apps.items.models import Item  # noqa: E402

BENCH_EMAIL_DOMAIN = "bench.atelier.invalid"
UNUSABLE = make_password(None)  # bench users never sign in
PUBLIC_FOLDER = "00000000-0000-4000-8000-00000000b0b0"
LIMIT = 100


def bench_users():
    return User.objects.filter(email__endswith=f"@{BENCH_EMAIL_DOMAIN}")


def reset():
    users = bench_users()
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM items_item WHERE owner_id IN (SELECT id FROM accounts_user WHERE email LIKE %s)",
            [f"%@{BENCH_EMAIL_DOMAIN}"],
        )
    Folder.all_objects.filter(pk=uuid.UUID(PUBLIC_FOLDER)).delete()
    users.delete()


def _explicit_columns() -> dict:
    """SQL expressions of the generated columns (``i`` is the row number, ``o`` the owner index)."""
    return {
        "id": "gen_random_uuid()",
        "owner_id": "(%(owners)s)[o + 1]",
        "created_at": "%(start)s::timestamptz - (i * 7 - (i %% 5 = 1)::int * 7) * interval '1 millisecond'",
        "updated_at": "%(start)s::timestamptz",
        "completed_at": "%(start)s::timestamptz - (i * 7 - (i %% 5 = 1)::int * 7) * interval '1 millisecond'",
        "reference_at": "%(start)s::timestamptz - (i * 7 - (i %% 5 = 1)::int * 7) * interval '1 millisecond'",
        "media_kind": "CASE WHEN i %% 10 = 0 THEN 'video' ELSE 'image' END",
        "prompt": "'bench prompt ' || i",
        "seed": "i",
        "steps": "30",
        "width": "1024",
        "height": "1024",
        "is_public": "(i %% 5 <> 4)",
        "public_approval_status": "CASE WHEN i %% 5 <> 4 THEN 'approved' ELSE 'none' END",
        "folder_id": f"CASE WHEN i %% 5 <> 4 THEN '{PUBLIC_FOLDER}'::uuid END",
        "view_count": "i %% 97",
        "like_count": "i %% 13",
    }


def generate(*, items: int, users: int):
    domain = default_domain()
    existing = bench_users().count()
    if existing != users or Item.objects.filter(owner__in=bench_users()).count() != items:
        reset()
        User.objects.bulk_create(
            [
                User(domain=domain, email=f"bench{n}@{BENCH_EMAIL_DOMAIN}", username=f"bench{n}", password=UNUSABLE)
                for n in range(users)
            ],
            batch_size=5000,
        )
        owner_ids = list(bench_users().order_by("email").values_list("id", flat=True))
        # The public folder that holds 80 % of the items (owned by the heavy user).
        Folder.all_objects.create(pk=uuid.UUID(PUBLIC_FOLDER), owner_id=owner_ids[0], is_public=True, name="Bench")
        explicit = _explicit_columns()
        columns, values, params = [], [], {}
        for field in Item._meta.concrete_fields:
            columns.append(connection.ops.quote_name(field.column))
            if field.column in explicit:
                values.append(explicit[field.column])
            else:
                key = f"default_{field.column}"
                params[key] = field.get_db_prep_save(field.get_default(), connection)
                values.append(f"%({key})s")
        # Owner 0 (the heavy user) gets 3 rows of every 5; the other owners share the rest in turn.
        params.update({"owners": owner_ids, "start": "2026-01-01T00:00:00Z", "n": items, "m": users - 1})
        # Column names come from the model and expressions from this module; values are parameters.
        sql = (
            f"INSERT INTO items_item ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(values)} FROM ("
            "  SELECT i, CASE WHEN i %% 5 < 3 THEN 0 ELSE 1 + (i %% %(m)s) END AS o"
            "  FROM generate_series(0, %(n)s - 1) AS i"
            ") AS rows"
        )
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.execute("ANALYZE accounts_user")
        with connection.cursor() as cursor:  # VACUUM cannot run in a transaction block
            cursor.execute("VACUUM ANALYZE items_item")
        print(f"generated {items:,} items over {users:,} users in {time.perf_counter() - started:.1f} s")
    else:
        print(f"reusing {items:,} items over {users:,} users")
    return bench_users().get(email=f"bench0@{BENCH_EMAIL_DOMAIN}")


def timed(function, repeat: int) -> float:
    function()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs) * 1000


def sql_time(queryset, repeat: int) -> float:
    sql, params = queryset.query.sql_with_params()

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    return timed(run, repeat)


def api(client, path, query, headers):
    def call():
        response = client.get(path, query, **headers)
        assert response.status_code == 200, response.content[:300]
        return response

    return call


def queries_of(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def measure(name, *, client, path, headers, queryset, count_queryset, depth_index, depth, repeat):
    first = api(client, path, {"limit": LIMIT}, headers)
    deep = api(client, path, {"limit": LIMIT, "paginationIndex": depth_index}, headers)
    skip = api(client, path, {"limit": LIMIT, "skipCount": depth}, headers)
    payload = first().json()
    deep_payload = deep().json()
    # A page may end a few rows early: it never splits a millisecond shared by several items.
    assert payload["metadata"]["count"] > LIMIT // 2 and deep_payload["metadata"]["count"] > LIMIT // 2, (
        payload["metadata"],
        deep_payload["metadata"],
    )
    first_ms, deep_ms, skip_ms = timed(first, repeat), timed(deep, repeat), timed(skip, max(1, repeat // 2))
    first_sql = sql_time(queryset.order_by("-reference_at", "-id")[: LIMIT + 1], repeat)
    lower, _ = millisecond_bounds(int(depth_index))
    deep_sql = sql_time(queryset.filter(reference_at__lt=lower).order_by("-reference_at", "-id")[: LIMIT + 1], repeat)
    count_ms = timed(count_queryset.count, repeat)
    print(f"\n{name}  (totalCount {payload['metadata'].get('totalCount')}, queries per request {queries_of(first)})")
    print(f"  first page            API {first_ms:8.2f} ms   page SQL {first_sql:7.2f} ms")
    print(
        f"  paginationIndex depth API {deep_ms:8.2f} ms   page SQL {deep_sql:7.2f} ms"
        f"   deep/first {deep_ms / first_ms:5.2f}x"
    )
    print(f"  skipCount={depth:<10,} API {skip_ms:8.2f} ms   ({skip_ms / first_ms:.1f}x the first page)")
    print(f"  totalCount SQL        {count_ms:8.2f} ms")
    print(
        f"  API / SQL (page + count): first {first_ms / (first_sql + count_ms):.2f}x,"
        f" deep {deep_ms / (deep_sql + count_ms):.2f}x;"
        f"  API / page SQL alone: first {first_ms / first_sql:.1f}x, deep {deep_ms / deep_sql:.1f}x"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--small", action="store_true", help="50,000 items over 500 users")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--reset", action="store_true", help="drop the bench rows first")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/items.py needs PostgreSQL: set DATABASE_URL to a database of its own.")
    if args.small:
        args.items, args.users = 50_000, 500
    if args.users < 2:
        sys.exit("--users must be at least 2.")

    call_command("migrate", verbosity=0)
    if args.reset:
        reset()
    heavy = generate(items=args.items, users=args.users)

    client = Client()
    session = accounts.create_session(domain=default_domain(), user=heavy)
    headers = {"HTTP_X_SESSION_ID": str(session.pk)}
    depth = args.items // 2

    library = selectors.owned_items(heavy)
    at_depth = library.order_by("-reference_at", "-id").values_list("reference_at", flat=True)[depth]
    print(f"\n{platform.python_implementation()} {platform.python_version()}, PostgreSQL {connection.pg_version}")
    print(f"heavy user: {library.count():,} items; depth {depth:,}")
    measure(
        "getMyCreations",
        client=client,
        path="/getMyCreations",
        headers=headers,
        queryset=library,
        count_queryset=library,
        depth_index=str(to_millis(at_depth)),
        depth=depth,
        repeat=args.repeat,
    )

    public = selectors.publicly_visible_items().filter(owner__domain=default_domain())
    public_at_depth = public.order_by("-reference_at", "-id").values_list("reference_at", flat=True)[depth]
    measure(
        "getPublicCreations",
        client=client,
        path="/getPublicCreations",
        headers=headers,
        queryset=public,
        count_queryset=public,
        depth_index=str(to_millis(public_at_depth)),
        depth=depth,
        repeat=args.repeat,
    )


if __name__ == "__main__":
    main()
