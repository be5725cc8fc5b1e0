"""Fixtures of the generation engine tests: the catalogue, callers, and AIMG request helpers."""

import pytest

from apps.accounts import services as accounts
from apps.core.domains import default_domain
from apps.text2image.services import catalogue


@pytest.fixture
def models(db):
    """The shipped catalogue (f222, model3, and the disabled ComfyUI / A1111 examples)."""
    catalogue.load_default_models()
    from apps.text2image.models import GenerationModel

    return {model.model_id: model for model in GenerationModel.objects.all()}


@pytest.fixture
def f222(models):
    return models["f222"]


@pytest.fixture
def model3(models):
    return models["model3"]


@pytest.fixture
def guest_session(db):
    return accounts.create_session(domain=default_domain())


@pytest.fixture(autouse=True)
def default_policy(request):
    """The shipped prompt policy (a data migration), also after a transactional test flushed it."""
    if "django_db" not in request.keywords and not {"db", "transactional_db"} & set(request.fixturenames):
        yield
        return
    request.getfixturevalue("db")
    from importlib import import_module

    from django.apps import apps as django_apps

    from apps.text2image.services.policy import forget_compiled_rules

    import_module("apps.text2image.migrations.0003_default_prompt_policy").create_defaults(django_apps, None)
    forget_compiled_rules()
    yield
