"""Fixtures of the OCS text2image / textprocessing tests (helpers: support.py)."""

import pytest

from tests.factories import UserFactory

from .support import api, fake_language_model


@pytest.fixture
def client():
    return api()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def ocs_model(db, settings):
    """The OCS text2image model: the built-in procedural provider, small and fast images, and room
    for 8 images at once on every tier."""
    from apps.text2image.models import GenerationModel

    model = GenerationModel.objects.create(
        model_id="ocs-procedural",
        name="OCS procedural",
        provider="procedural",
        tier0_concurrent=8,
        tier1_concurrent=8,
        tier2_concurrent=8,
        allowed_widths=[64, 512],
        allowed_heights=[64, 512],
        default_resolution=[64, 64],
        default_steps=4,
    )
    settings.OCS_TEXT2IMAGE_MODEL = model.model_id
    return model


@pytest.fixture
def language_model(settings):
    with fake_language_model() as fake:
        settings.OCS_TEXT_OPENAI_BASE_URL = fake.base_url
        settings.OCS_TEXT_OPENAI_MODEL = "fake-model"
        settings.OCS_TEXT_OPENAI_API_KEY = "sk-test"
        settings.OCS_TEXT_OPENAI_TIMEOUT = 10.0
        yield fake
