"""Factories of the folders and tags tests."""

import factory

from apps.folders.models import Folder
from apps.tags.models import Tag
from tests.factories import UserFactory


class FolderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Folder

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Folder {n}")
    is_public = False


class PublicFolderFactory(FolderFactory):
    is_public = True


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"tag{n}")
    usage_count = 0
