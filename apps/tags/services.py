"""Writes of the tags app: tagging items and folders, and keeping ``Tag.usage_count`` exact.

Items and folders carry their tags as a JSON list of names in their ``tags`` column; this module is
the only writer of that column (the items app clears it on delete and restore, and then calls
``release`` here). ``usage_count`` counts the live items and folders that carry a tag now.

Every change locks the tagged row first (``SELECT … FOR UPDATE``), works out the difference, and
moves the counters with ``F()`` updates in name order (two requests never deadlock on tag rows),
so counts stay exact under concurrency. Locks are always taken folder → item → tag.
"""

import re
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from apps.core.errors import Conflict, InvalidInput, NotFound

from .models import MAX_TAG_LENGTH, MAX_TAGS, Tag

# The spec writes ^[a-z0-9$-_\.\+!\*'\(\)]{1,32}$: the URL-safe characters of RFC 1738. Read
# literally, "$-_" would be a range admitting , / : ; < = > ? @ [ \ ] ^ as well (a comma would break
# the comma-separated filter of getTagsList): "$", "-" and "_" are taken as themselves.
TAG_PATTERN = re.compile(r"^[a-z0-9$\-_.+!*'()]{1,32}$")
ALLOWED = "lower-case letters, digits and $ - _ . + ! * ' ( )"
MAX_TAGS_PER_REQUEST = 100

TOO_MANY = "An item or folder can carry at most {max} tags."


def _refuse(message: str, field_name: str = "tags") -> InvalidInput:
    return InvalidInput(f"{field_name}: {message}", errors={(field_name,): [message]})


def normalize_tags(values, *, field_name: str = "tags") -> list[str]:
    """Tag names as given, lower-cased, blanks around them dropped, repeats removed (first kept).

    A value that is not a string, or a name outside ``TAG_PATTERN`` (1 to 32 of the allowed
    characters), refuses the whole list with ``InvalidInput``.
    """
    if not isinstance(values, list):
        raise _refuse("Give the tags as an array of strings.", field_name)
    if len(values) > MAX_TAGS_PER_REQUEST:
        raise _refuse(f"Give at most {MAX_TAGS_PER_REQUEST} tags per request.", field_name)
    names = []
    for value in values:
        if not isinstance(value, str):
            raise _refuse("Each tag must be a string.", field_name)
        name = value.strip().lower()
        if not TAG_PATTERN.match(name):
            shown = value[:40]
            raise _refuse(
                f"'{shown}' is not a valid tag: use 1 to {MAX_TAG_LENGTH} characters among {ALLOWED}.", field_name
            )
        names.append(name)
    return list(dict.fromkeys(names))


# --- counters ------------------------------------------------------------------------------------------


def apply_usage(changes: Counter) -> None:
    """Move usage counts by ``{(owner_id, name): delta}``; a tag used for the first time is created.

    Rows are touched in (owner, name) order. A count never goes below zero (a release of a tag that
    was never counted changes nothing).
    """
    keys = sorted((key for key, delta in changes.items() if delta), key=lambda key: (str(key[0]), key[1]))
    if not keys:
        return
    new = [Tag(owner_id=owner_id, name=name) for owner_id, name in keys if changes[(owner_id, name)] > 0]
    if new:
        Tag.objects.bulk_create(new, ignore_conflicts=True)
    now = timezone.now()
    for owner_id, name in keys:
        delta = changes[(owner_id, name)]
        Tag.objects.filter(owner_id=owner_id, name=name).update(
            usage_count=Greatest(F("usage_count") + delta, Value(0)), updated_at=now
        )


def claim(*, owner_id, names) -> None:
    """Count one more use of each tag of ``names`` (on one item or folder of that user)."""
    apply_usage(Counter({(owner_id, name): 1 for name in names}))


def release(*, rows) -> None:
    """Count one use less of the tags of each ``(owner_id, names)`` in ``rows``: items or folders
    that stop carrying their tags (deleted, or their tags cleared)."""
    changes = Counter()
    for owner_id, names in rows:
        if owner_id is None:
            continue
        for name in set(names or []):
            if isinstance(name, str) and TAG_PATTERN.match(name):
                changes[(owner_id, name)] -= 1
    apply_usage(changes)


def transfer(*, rows, destination_owner_id) -> None:
    """Move the counted uses of ``rows`` (``(owner_id, names)``) to another user (library migration)."""
    changes = Counter()
    for owner_id, names in rows:
        if owner_id is None or owner_id == destination_owner_id:
            continue
        for name in set(names or []):
            if isinstance(name, str) and TAG_PATTERN.match(name):
                changes[(owner_id, name)] -= 1
                changes[(destination_owner_id, name)] += 1
    apply_usage(changes)


# --- tagging an item or a folder -----------------------------------------------------------------------


@dataclass
class TagOutcome:
    """``success``, ``modified`` and ``actual`` of addTagsToItem / removeTagsFromItem / setTagsForItem."""

    success: bool
    modified: list = field(default_factory=list)
    actual: list = field(default_factory=list)


def _lock(target):
    """The live row of ``target`` (an item or a folder, whose owner's vocabulary counts its tags),
    locked; NotFound when it went meanwhile."""
    row = type(target).objects.select_for_update(of=("self",)).filter(pk=target.pk).first()
    if row is None:
        raise NotFound("The item or folder was deleted meanwhile.")
    return row


def _save(row, tags: list, *, added, removed) -> None:
    owner_id = row.owner_id
    type(row).all_objects.filter(pk=row.pk).update(tags=tags)
    row.tags = tags
    changes = Counter()
    for name in added:
        changes[(owner_id, name)] += 1
    for name in removed:
        changes[(owner_id, name)] -= 1
    apply_usage(changes)


@transaction.atomic
def add_tags(*, target, tags: list[str]) -> TagOutcome:
    """Add tags (already normalized) to an item or folder. Tags it carries already are skipped; if
    the new ones would take it past ``MAX_TAGS``, nothing is added and ``Conflict`` (409) says so."""
    row = _lock(target)
    current = list(row.tags or [])
    added = [name for name in tags if name not in current]
    if len(current) + len(added) > MAX_TAGS:
        raise Conflict(
            f"{TOO_MANY.format(max=MAX_TAGS)} It carries {len(current)}; "
            f"adding {len(added)} more would make {len(current) + len(added)}.",
            code="too_many_tags",
        )
    if added:
        _save(row, current + added, added=added, removed=[])
    return TagOutcome(success=bool(added), modified=added, actual=list(row.tags or []))


@transaction.atomic
def remove_tags(*, target, tags: list[str]) -> TagOutcome:
    """Remove tags (already normalized) from an item or folder; tags it does not carry are skipped."""
    row = _lock(target)
    current = list(row.tags or [])
    removed = [name for name in tags if name in current]
    if removed:
        _save(row, [name for name in current if name not in removed], added=[], removed=removed)
    return TagOutcome(success=bool(removed), modified=removed, actual=list(row.tags or []))


@transaction.atomic
def set_tags(*, target, tags: list[str]) -> TagOutcome:
    """Replace the tags (already normalized) of an item or folder; at most ``MAX_TAGS``."""
    if len(tags) > MAX_TAGS:
        raise _refuse(f"{TOO_MANY.format(max=MAX_TAGS)} {len(tags)} were given.")
    row = _lock(target)
    current = list(row.tags or [])
    added = [name for name in tags if name not in current]
    removed = [name for name in current if name not in tags]
    if added or removed or current != tags:
        _save(row, list(tags), added=added, removed=removed)
    return TagOutcome(success=True, modified=added + removed, actual=list(row.tags or []))


# --- recount ---------------------------------------------------------------------------------------------


@transaction.atomic
def recount(*, owner=None) -> int:
    """Recompute the usage counts (of one user's tags, or everyone's) from the live items and folders
    that carry tags; tags in use but unknown are created. Returns how many counts changed."""
    from apps.folders.models import Folder
    from apps.items.models import Item

    wanted = Counter()
    sources = (
        Item.objects.filter(owner__isnull=False).values_list("owner_id", "tags"),
        Folder.objects.values_list("owner_id", "tags"),
    )
    for rows in sources:
        if owner is not None:
            rows = rows.filter(owner=owner)
        for owner_id, names in rows.iterator():
            for name in set(names or []):
                if isinstance(name, str) and TAG_PATTERN.match(name):
                    wanted[(owner_id, name)] += 1
    tags = Tag.objects.select_for_update()
    if owner is not None:
        tags = tags.filter(owner=owner)
    existing = {(tag.owner_id, tag.name): tag.usage_count for tag in tags.order_by("owner_id", "name")}
    missing = [Tag(owner_id=o, name=n, usage_count=0) for (o, n) in wanted if (o, n) not in existing]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    changed = 0
    now = timezone.now()
    for key in sorted(set(existing) | set(wanted), key=lambda k: (str(k[0]), k[1])):
        count = wanted.get(key, 0)
        if existing.get(key) != count:
            changed += Tag.objects.filter(owner_id=key[0], name=key[1]).update(usage_count=count, updated_at=now)
    return changed
