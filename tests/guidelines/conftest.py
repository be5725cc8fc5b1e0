import pytest

from tests.factories import UserFactory
from tests.sartiq_support import image_server, image_servers, private_server  # noqa: F401 - fixtures


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def other():
    return UserFactory()


@pytest.fixture
def admin():
    return UserFactory(is_staff=True, is_superuser=True)
