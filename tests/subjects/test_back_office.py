"""The subject pages of the back office (list, filters, previews, edit form; restore, purge, copy and
readiness actions; read-only upload tasks), the pose preset / set design / guidelines pages, the demo
data and the ``refresh_subjects_ready`` command."""

from io import StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.accounts import demo as accounts_demo
from apps.guidelines.models import GuidelineShotType, GuidelineSubject, PosePreset, SetDesign, ShootingGuidelines
from apps.subjects import demo
from apps.subjects.models import Subject, SubjectBaseImagesUploadTask
from tests.factories import UserFactory

from .support import data_uri, shot_type

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:subjects_subject_changelist")


@pytest.fixture
def office(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def subjects(alice, bob):
    anna = alice.create(name="Anna", data_images=[data_uri((3, 3, 3))], measurements={"height_cm": 170})
    ben = bob.create(name="Ben", gender="MALE", public=True)
    return anna, ben


def act(office, action: str, ids, **query):
    return office.post(
        CHANGELIST + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""),
        {"action": action, ACTION_CHECKBOX_NAME: [str(pk) for pk in ids]},
        follow=True,
    )


def test_the_list_shows_subjects_with_cover_thumbnails_and_filters(office, subjects):
    page = office.get(CHANGELIST).content.decode()
    assert "Anna" in page and "Ben" in page
    assert page.count('<img src="/api/v1/media/') == 2
    only_men = office.get(CHANGELIST, {"gender__exact": "MALE"}).content.decode()
    assert "Ben" in only_men and "Anna" not in only_men
    searched = office.get(CHANGELIST, {"q": "anna"}).content.decode()
    assert "Anna" in searched and "Ben" not in searched


def test_the_edit_form_shows_previews_and_measurements(office, subjects):
    anna, _ = subjects
    response = office.get(reverse("admin:subjects_subject_change", args=[anna["id"]]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "data and portfolio images" in page.lower() and page.count("/api/v1/media/") >= 2
    assert 'name="measurements-0-height_cm"' in page and 'value="170.0"' in page


def test_holding_back_in_the_form_keeps_the_subject_not_ready(office, subjects):
    anna, _ = subjects
    url = reverse("admin:subjects_subject_change", args=[anna["id"]])
    form = office.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        {
            "held_back": "on",
            "measurements-TOTAL_FORMS": "1",
            "measurements-INITIAL_FORMS": "1",
            "measurements-0-id": Subject.objects.get(pk=anna["id"]).measurements.pk,
            "measurements-0-subject": anna["id"],
            "measurements-0-height_cm": "171",
            "base_images-TOTAL_FORMS": "0",
            "base_images-INITIAL_FORMS": "0",
        }
    )
    response = office.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    row = Subject.objects.get(pk=anna["id"])
    assert (row.held_back, row.ready, row.measurements.height_cm) == (True, False, 171.0)


def test_delete_restore_purge_copy_and_refresh_actions(office, alice, subjects):
    anna, ben = subjects
    act(office, "delete_selected", [anna["id"]])
    response = office.post(
        CHANGELIST, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [anna["id"]], "post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert Subject.all_objects.get(pk=anna["id"]).deleted_at is not None
    page = act(office, "restore_selected", [anna["id"]]).content.decode()
    assert "Restored 1 subject(s)." in page and Subject.objects.filter(pk=anna["id"]).exists()
    page = act(office, "copy_selected", [ben["id"]]).content.decode()
    assert "Copied 1 subject(s)." in page and Subject.objects.filter(copied_from_id=ben["id"]).count() == 1
    Subject.objects.filter(pk=anna["id"]).update(ready=False)
    page = act(office, "refresh_ready", [anna["id"]]).content.decode()
    assert "Recomputed &#x27;ready&#x27; of 1 subject(s)." in page and Subject.objects.get(pk=anna["id"]).ready
    Subject.objects.get(pk=anna["id"]).delete()
    page = act(office, "purge_selected", [anna["id"], ben["id"]]).content.decode()
    assert "Purged 1 deleted subject(s)" in page
    assert not Subject.all_objects.filter(pk=anna["id"]).exists() and Subject.objects.filter(pk=ben["id"]).exists()


def test_upload_tasks_are_listed_read_only(office, alice, subjects):
    anna, _ = subjects
    task = SubjectBaseImagesUploadTask.objects.create(owner=alice.user, subject_id=anna["id"], status="FAILED")
    assert office.get(reverse("admin:subjects_subjectbaseimagesuploadtask_changelist")).status_code == 200
    detail = office.get(reverse("admin:subjects_subjectbaseimagesuploadtask_change", args=[task.pk]))
    assert detail.status_code == 200 and "FAILED" in detail.content.decode()
    assert office.get(reverse("admin:subjects_subjectbaseimagesuploadtask_add")).status_code == 403


def test_the_guidelines_pages_render_and_saving_refreshes_readiness(office, alice, subjects):
    anna, _ = subjects
    front = shot_type(alice.user, "front")
    PosePreset.objects.create(owner=alice.user, name="Arms crossed", shot_type=front)
    SetDesign.objects.create(owner=alice.user, name="Beach")
    guideline = ShootingGuidelines.objects.create(owner=alice.user, name="Summer")
    for name in ("posepreset", "setdesign", "shootingguidelines"):
        assert office.get(reverse(f"admin:guidelines_{name}_changelist")).status_code == 200
        assert office.get(reverse(f"admin:guidelines_{name}_add")).status_code == 200
    url = reverse("admin:guidelines_shootingguidelines_change", args=[guideline.pk])
    assert office.get(url).status_code == 200
    data = {
        "owner": alice.user.pk,
        "name": "Summer",
        "auto_start_look_generations": "on",
        "shot_type_links-TOTAL_FORMS": "1",
        "shot_type_links-INITIAL_FORMS": "0",
        "shot_type_links-0-shot_type": front.pk,
        "shot_type_links-0-position": "0",
        "subject_links-TOTAL_FORMS": "1",
        "subject_links-INITIAL_FORMS": "0",
        "subject_links-0-subject": anna["id"],
        "subject_links-0-position": "0",
        "pose_preset_links-TOTAL_FORMS": "0",
        "pose_preset_links-INITIAL_FORMS": "0",
        "shot_type_rules-TOTAL_FORMS": "0",
        "shot_type_rules-INITIAL_FORMS": "0",
    }
    response = office.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert GuidelineShotType.objects.filter(guideline=guideline).count() == 1
    assert GuidelineSubject.objects.filter(guideline=guideline).count() == 1
    assert Subject.objects.get(pk=anna["id"]).ready is False  # it now needs a front base image


# --- demo data and command ----------------------------------------------------------------------------


def test_the_demo_is_seeded_once():
    assert list(demo.seed()) == ["skipped: no user alice@example.com (the accounts demo makes it)"]
    list(accounts_demo.seed())
    first = list(demo.seed())
    assert first[1].startswith("subject Demo Model (created")
    assert first[2] == "shooting guidelines 'Demo catalogue shoot' (created); the subject is ready"
    counts = (Subject.objects.count(), ShootingGuidelines.objects.count())
    second = list(demo.seed())
    assert second[1].startswith("subject Demo Model (exists")
    assert (Subject.objects.count(), ShootingGuidelines.objects.count()) == counts == (1, 1)


def test_the_refresh_command_recomputes_readiness(alice, subjects):
    anna, _ = subjects
    Subject.objects.filter(pk=anna["id"]).update(ready=False)
    out = StringIO()
    call_command("refresh_subjects_ready", stdout=out)
    assert out.getvalue().strip() == "Checked 2 subject(s): 2 ready; 1 became ready, 0 no longer ready."
    out = StringIO()
    call_command("refresh_subjects_ready", "--owner", alice.user.email, stdout=out)
    assert out.getvalue().startswith("Checked 1 subject(s)")
    with pytest.raises(CommandError, match="No subject has the id"):
        call_command("refresh_subjects_ready", "--ids", "00000000-0000-0000-0000-000000000000")
    with pytest.raises(CommandError, match="UUIDs"):
        call_command("refresh_subjects_ready", "--ids", "nope")
