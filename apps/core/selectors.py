"""Reads of the core app."""

import re

from .models import FILE_ID_PATTERN, FileObject

_FILE_ID = re.compile(FILE_ID_PATTERN)


def is_file_id(value) -> bool:
    """Whether ``value`` can name a file of the file server (FILE_ID_PATTERN)."""
    return isinstance(value, str) and _FILE_ID.fullmatch(value) is not None


def file_by_id(file_id: str, *, include_deleted: bool = False) -> FileObject | None:
    """The file ``file_id`` (a removed one too when ``include_deleted``), or None. One query at most:
    an id that cannot exist is answered without asking the database."""
    if not is_file_id(file_id):
        return None
    manager = FileObject.all_objects if include_deleted else FileObject.objects
    return manager.filter(pk=file_id).first()


def file_id_taken(file_id: str) -> bool:
    """Whether a file, live or removed (and not yet purged), already has this id."""
    return FileObject.all_objects.filter(pk=file_id).exists()
