"""The workflow template back office in a real browser: import a JSON file, see the templates valid."""

import re

import pytest
from django.contrib.auth.models import Group

from apps.text2image.models import WorkflowTemplate
from apps.text2image.services import catalogue
from apps.text2image.services import workflows as services
from tests.e2e.test_admin_browser import _sign_in, browser, expect, page  # noqa: F401 - fixtures
from tests.factories import StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_import_templates_and_see_them_valid(page, live_server, tmp_path):  # noqa: F811
    catalogue.load_default_models()
    staff = StaffFactory(email="templates@example.com")
    staff.groups.add(Group.objects.get(name="admin"))
    document = tmp_path / "templates.json"
    document.write_bytes(services.DEMO_FIXTURE.read_bytes())

    _sign_in(page, live_server, staff)
    page.goto(f"{live_server.url}/admin/text2image/workflowtemplate/")
    page.get_by_role("link", name="Import JSON").click()
    expect(page.locator("#content h1")).to_have_text("Import workflow templates")
    page.set_input_files("#id_file", str(document))
    page.click("#import-workflow-templates input[type=submit]")
    expect(page.locator("ul.messagelist")).to_contain_text(re.compile("created: text-to-image-demo", re.I))
    expect(page.locator("#result_list")).to_contain_text("text-to-image-demo")
    expect(page.locator("#result_list .field-validation_status")).to_have_text("Valid")
    assert WorkflowTemplate.objects.get().validation_status == "valid"
