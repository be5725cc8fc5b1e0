"""Fixtures of the subject tests."""

import pytest
from django.core.files.storage import default_storage

from tests.factories import UserFactory
from tests.sartiq_support import image_server, image_servers, private_server  # noqa: F401 - fixtures

from .support import Caller


@pytest.fixture(autouse=True)
def storage(settings):
    """A fresh in-memory default storage for each test."""
    settings.STORAGES = {**settings.STORAGES}
    return default_storage


@pytest.fixture
def alice():
    return Caller(UserFactory())


@pytest.fixture
def bob():
    return Caller(UserFactory())


@pytest.fixture
def admin():
    return Caller(UserFactory(is_staff=True, is_superuser=True))


@pytest.fixture
def anonymous():
    return Caller()
