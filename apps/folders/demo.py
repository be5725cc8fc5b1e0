"""Demo folders: alice gets a private and a public folder (empty until she adds items)."""

from apps.accounts.models import User
from apps.core.domains import default_domain

from . import services
from .models import Folder

FOLDERS = [
    {"name": "Sketches", "description": "Ideas to try again.", "is_public": False},
    {"name": "Showcase", "description": "My approved favourites.", "is_public": True},
]


def seed():
    owner = User.objects.filter(email__iexact="alice@example.com", domain=default_domain()).first()
    if owner is None:
        yield "no alice@example.com: no demo folders"
        return
    for spec in FOLDERS:
        folder = Folder.objects.filter(owner=owner, name=spec["name"], is_public=spec["is_public"]).first()
        state = "exists"
        if folder is None:
            folder = services.create_folder(owner=owner, **spec)
            state = "created"
        yield f"{'public' if folder.is_public else 'private'} folder {folder.name!r} of {owner.email} ({state})"
