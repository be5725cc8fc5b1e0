"""Shooting guidelines over HTTP (``/api/v1/guidelines/``): create with expanded relations and rules in
one transaction, references checked for existence and visibility, the workflow template rules, rule
replacement on update, lists scoped by owner and organization, delete and restore."""

import pytest

from apps.accounts.models import Membership
from apps.core.sartiq.media import resolve_media_input
from apps.guidelines.models import (
    PosePreset,
    SetBaseImage,
    SetDesign,
    SetReferenceImage,
    SetSubjectPortrait,
    ShootingGuidelines,
    ShotTypeRule,
)
from apps.subjects.models import Subject
from apps.text2image.models import WorkflowTemplate
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.sartiq_schema import assert_matches, assert_validation_error

from .support import background_preset, client_for, image_b64, queries_for, resolution_preset, shot_type

GUIDELINES = "/api/v1/guidelines/"

pytestmark = pytest.mark.django_db


def subject(owner, name="Anna", **fields) -> Subject:
    fields.setdefault("age_class", "adult")
    return Subject.objects.create(
        owner=owner, name=name, slug=f"{name.lower()}-{Subject.all_objects.count()}", **fields
    )


def template(organization=None, status="valid", name=None) -> WorkflowTemplate:
    return WorkflowTemplate.objects.create(
        name=name or f"template-{WorkflowTemplate.all_objects.count()}",
        organization=organization,
        validation_status=status,
    )


def organization_with(*users, owner=None):
    organization = OrganizationFactory()
    if owner is not None:
        MembershipFactory(organization=organization, user=owner, role=Membership.Role.OWNER)
    for user in users:
        MembershipFactory(organization=organization, user=user, role=Membership.Role.MEMBER)
    return organization


def errors_of(response) -> dict:
    assert response.status_code == 422, response.json()
    assert_validation_error(response.json())
    return {tuple(error["loc"]): error for error in response.json()["detail"]}


@pytest.fixture
def catalogue(user):
    """Shot types, a subject, presets, a pose preset and a set design the user may use."""
    front = shot_type(user, name="front", view_angle="front")
    back = shot_type(user, name="back", view_angle="back")
    media = resolve_media_input(image_b64(), user=user, field="x")
    anna = subject(user, cover_image=media)
    pose = PosePreset.objects.create(owner=user, name="Hands on hips", prompt="hands on hips", shot_type=front)
    set_design = SetDesign.objects.create(
        owner=user, name="Loft", description="Brick wall", background_preset=background_preset(user)
    )
    SetBaseImage.objects.create(set_design=set_design, subject=anna, shot_type=front, image=media, variant_index=1)
    SetReferenceImage.objects.create(set_design=set_design, shot_type=back, image=media, label="wall")
    SetSubjectPortrait.objects.create(set_design=set_design, subject=anna, image=media)
    return {
        "front": front,
        "back": back,
        "subject": anna,
        "pose": pose,
        "set_design": set_design,
        "resolution": resolution_preset(user),
        "background": background_preset(user, name="Grey"),
    }


def full_body(catalogue, **fields) -> dict:
    body = {
        "name": "Catalogue shoot",
        "auto_start_look_generations": False,
        "allow_back_shots_without_back_image": True,
        "resolution_preset_id": str(catalogue["resolution"].pk),
        "background_preset_id": str(catalogue["background"].pk),
        "set_design_id": str(catalogue["set_design"].pk),
        "stylist_id": "0b4a7b8c-1111-4a8e-9d6e-2f8a1c0e5d11",
        "export_configuration_id": "1c5b8c9d-2222-4b9f-8e7f-3a9b2d1f6e22",
        "shot_type_ids": [str(catalogue["front"].pk), str(catalogue["back"].pk)],
        "subject_ids": [str(catalogue["subject"].pk)],
        "pose_preset_ids": [str(catalogue["pose"].pk)],
        "shot_type_rules": [
            {"rule_kind": "PLACEMENT", "rule_value": "TOP", "shot_type_ids": [str(catalogue["front"].pk)]},
            {
                "rule_kind": "GENDER",
                "rule_value": "FEMALE",
                "shot_type_ids": [str(catalogue["back"].pk), str(catalogue["front"].pk), str(catalogue["back"].pk)],
            },
        ],
    }
    body.update(fields)
    return body


def create(client, body: dict, query: str = "") -> dict:
    response = client.post(f"{GUIDELINES}{query}", body, format="json")
    assert response.status_code == 200, response.json()
    payload = response.json()
    assert_matches(payload, "ShootingGuidelinesPublic")
    return payload


# --- create ------------------------------------------------------------------------------------------


def test_create_answers_the_guideline_with_its_relations_expanded(user, catalogue):
    body = full_body(catalogue)
    assert_matches(body, "ShootingGuidelinesCreate", strict=False)
    guideline = create(client_for(user), body)
    for name in ("name", "auto_start_look_generations", "allow_back_shots_without_back_image", "stylist_id"):
        assert guideline[name] == body[name]
    assert guideline["resolution_preset_id"] == body["resolution_preset_id"]
    assert guideline["set_design_id"] == body["set_design_id"]
    assert (guideline["owner_id"], guideline["organization_id"]) == (str(user.pk), None)
    assert [item["name"] for item in guideline["shot_types"]] == ["front", "back"]
    for item in guideline["shot_types"]:
        assert_matches(item, "ShotTypePublic")
    (anna,) = guideline["subjects"]
    assert_matches(anna, "SubjectPublic")
    assert anna["id"] == str(catalogue["subject"].pk)
    (pose,) = guideline["pose_presets"]
    assert_matches(pose, "PosePresetPublic")
    assert (pose["name"], pose["prompt"], pose["shot_type_id"]) == (
        "Hands on hips",
        "hands on hips",
        str(catalogue["front"].pk),
    )
    set_design = guideline["set_design"]
    assert_matches(set_design, "SetDesignPublic")
    assert (set_design["name"], set_design["description"]) == ("Loft", "Brick wall")
    assert set_design["base_images"][0]["variant_index"] == 1
    assert set_design["base_images"][0]["image_url"] == set_design["base_images"][0]["image_media"]["url"]
    assert set_design["reference_images"][0]["label"] == "wall"
    assert set_design["subject_portraits"][0]["subject_id"] == str(catalogue["subject"].pk)
    rules = guideline["shot_type_rules"]
    assert [(rule["rule_kind"], rule["rule_value"]) for rule in rules] == [("PLACEMENT", "TOP"), ("GENDER", "FEMALE")]
    assert [[item["name"] for item in rule["shot_types"]] for rule in rules] == [["front"], ["back", "front"]]
    assert guideline["generative_workflow_template_id"] is None and guideline["deleted_at"] is None


def test_create_applies_the_spec_defaults(user):
    guideline = create(client_for(user), {"name": "Bare"})
    assert (guideline["auto_start_look_generations"], guideline["allow_back_shots_without_back_image"]) == (
        True,
        False,
    )
    for name in ("shot_types", "subjects", "pose_presets", "shot_type_rules"):
        assert guideline[name] == []
    for name in ("resolution_preset_id", "background_preset_id", "set_design_id", "stylist_id", "set_design"):
        assert guideline[name] is None


def test_references_must_exist_and_be_visible_and_nothing_is_created_otherwise(user, other, catalogue):
    foreign = {
        "shot": shot_type(other, name="private", public=False),
        "subject": subject(other, name="Theirs"),
        "pose": PosePreset.objects.create(owner=other, name="p", shot_type=catalogue["front"]),
        "resolution": resolution_preset(other),
        "background": background_preset(other),
        "set": SetDesign.objects.create(owner=other, name="Their set"),
    }
    body = full_body(
        catalogue,
        shot_type_ids=[str(catalogue["front"].pk), str(foreign["shot"].pk)],
        subject_ids=[str(foreign["subject"].pk)],
        pose_preset_ids=[str(foreign["pose"].pk)],
        resolution_preset_id=str(foreign["resolution"].pk),
        background_preset_id=str(foreign["background"].pk),
        set_design_id=str(foreign["set"].pk),
        shot_type_rules=[
            {"rule_kind": "PLACEMENT", "rule_value": "TOP", "shot_type_ids": [str(catalogue["front"].pk)]},
            {"rule_kind": "CATEGORY", "rule_value": "shoes", "shot_type_ids": [str(foreign["shot"].pk)]},
        ],
    )
    errors = errors_of(client_for(user).post(GUIDELINES, body, format="json"))
    assert set(errors) == {
        ("body", "shot_type_ids", 1),
        ("body", "subject_ids", 0),
        ("body", "pose_preset_ids", 0),
        ("body", "resolution_preset_id"),
        ("body", "background_preset_id"),
        ("body", "set_design_id"),
        ("body", "shot_type_rules", 1, "shot_type_ids", 0),
    }
    assert "No subject you can use" in errors[("body", "subject_ids", 0)]["msg"]
    assert not ShootingGuidelines.all_objects.exists() and not ShotTypeRule.objects.exists()


def test_a_public_shot_type_of_someone_else_may_be_used(user, other):
    shared = shot_type(other, name="shared", public=True)
    guideline = create(client_for(user), {"name": "G", "shot_type_ids": [str(shared.pk)]})
    assert guideline["shot_types"][0]["id"] == str(shared.pk)


def test_an_organization_guideline_uses_the_organizations_resources(user, other):
    organization = organization_with(user, other)
    theirs = subject(other, name="Team", organization=organization)
    mine = subject(user, name="Mine")
    client = client_for(user)
    body = {"name": "Team shoot", "organization_id": str(organization.pk), "subject_ids": [str(theirs.pk)]}
    guideline = create(client, body)
    assert guideline["organization_id"] == str(organization.pk)
    errors = errors_of(client.post(GUIDELINES, {**body, "subject_ids": [str(mine.pk)]}, format="json"))
    assert set(errors) == {("body", "subject_ids", 0)}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ("body", "name")),
        ({"name": "x" * 256}, ("body", "name")),
        ({"name": "n", "shot_type_ids": ["nope"]}, ("body", "shot_type_ids", 0)),
        ({"name": "n", "subject_ids": None}, ("body", "subject_ids")),
        ({"name": "n", "stylist_id": 5}, ("body", "stylist_id")),
        ({"name": "n", "shot_type_rules": [None]}, ("body", "shot_type_rules", 0)),
        ({"name": "n", "shot_type_rules": [{"rule_kind": "MOOD", "rule_value": "x", "shot_type_ids": []}]}, None),
        (
            {"name": "n", "shot_type_rules": [{"rule_kind": "GENDER", "rule_value": "ROBOT", "shot_type_ids": []}]},
            ("body", "shot_type_rules", 0, "shot_type_ids"),
        ),
        (
            {"name": "n", "shot_type_rules": [{"rule_kind": "PLACEMENT", "rule_value": "", "shot_type_ids": ["x"]}]},
            ("body", "shot_type_rules", 0, "rule_value"),
        ),
    ],
)
def test_malformed_bodies_are_422(user, body, loc):
    errors = errors_of(client_for(user).post(GUIDELINES, body, format="json"))
    if loc is not None:
        assert loc in errors, errors
    assert not ShootingGuidelines.all_objects.exists()


def test_rule_values_of_gender_and_age_class_are_checked_and_groups_given_once(user, catalogue):
    front = str(catalogue["front"].pk)
    client = client_for(user)
    bad = [{"rule_kind": "AGE_CLASS", "rule_value": "ancient", "shot_type_ids": [front]}]
    errors = errors_of(client.post(GUIDELINES, {"name": "n", "shot_type_rules": bad}, format="json"))
    assert ("body", "shot_type_rules", 0, "rule_value") in errors
    twice = [{"rule_kind": "PLACEMENT", "rule_value": "TOP", "shot_type_ids": [front]}] * 2
    errors = errors_of(client.post(GUIDELINES, {"name": "n", "shot_type_rules": twice}, format="json"))
    assert ("body", "shot_type_rules", 1, "rule_value") in errors


# --- the workflow template -------------------------------------------------------------------------


def test_the_workflow_template_must_be_validated_and_of_the_guidelines_organization(user):
    mine = organization_with(user)
    elsewhere = OrganizationFactory()
    client = client_for(user)
    body = {"name": "G", "organization_id": str(mine.pk)}
    ours = template(mine)
    shared = template(None)
    assert create(client, {**body, "generative_workflow_template_id": str(ours.pk)})[
        "generative_workflow_template_id"
    ] == str(ours.pk)
    assert create(client, {**body, "generative_workflow_template_id": str(shared.pk)})[
        "generative_workflow_template_id"
    ] == str(shared.pk)
    for refused in (template(elsewhere), template(mine, status="pending"), template(mine, status="invalid")):
        errors = errors_of(
            client.post(GUIDELINES, {**body, "generative_workflow_template_id": str(refused.pk)}, format="json")
        )
        assert set(errors) == {("body", "generative_workflow_template_id")}
        assert "validated workflow template" in errors[("body", "generative_workflow_template_id")]["msg"]
    personal = {"name": "Personal", "generative_workflow_template_id": str(ours.pk)}
    errors = errors_of(client.post(GUIDELINES, personal, format="json"))
    assert set(errors) == {("body", "generative_workflow_template_id")}
    gone = template(mine)
    gone.delete()
    errors_of(client.post(GUIDELINES, {**body, "generative_workflow_template_id": str(gone.pk)}, format="json"))


def test_updates_set_clear_and_recheck_the_template_on_transfer(user):
    first = organization_with(owner=user)
    second = organization_with(owner=user)
    client = client_for(user)
    guideline = create(client, {"name": "G", "organization_id": str(first.pk)})
    url = f"{GUIDELINES}{guideline['id']}"
    ours = template(first)
    response = client.put(url, {"generative_workflow_template_id": str(ours.pk)}, format="json")
    assert response.json()["generative_workflow_template_id"] == str(ours.pk)
    errors = errors_of(client.patch(url, {"organization_id": str(second.pk)}, format="json"))
    assert set(errors) == {("body", "generative_workflow_template_id")}
    assert ShootingGuidelines.objects.get(pk=guideline["id"]).organization_id == first.pk
    moved = client.patch(
        url, {"organization_id": str(second.pk), "generative_workflow_template_id": None}, format="json"
    )
    assert moved.status_code == 200, moved.json()
    assert (moved.json()["organization_id"], moved.json()["generative_workflow_template_id"]) == (
        str(second.pk),
        None,
    )
    untouched = client.put(url, {"name": "Renamed"}, format="json").json()
    assert untouched["generative_workflow_template_id"] is None and untouched["name"] == "Renamed"


# --- rules on update ---------------------------------------------------------------------------------


def test_rules_are_replaced_when_given_cleared_by_an_empty_list_and_untouched_otherwise(user, catalogue):
    client = client_for(user)
    guideline = create(client, full_body(catalogue))
    url = f"{GUIDELINES}{guideline['id']}"
    front, back = str(catalogue["front"].pk), str(catalogue["back"].pk)

    untouched = client.put(url, {"name": "Renamed", "shot_type_rules": None}, format="json").json()
    assert untouched["shot_type_rules"] == guideline["shot_type_rules"]

    replaced = client.patch(
        url,
        {"shot_type_rules": [{"rule_kind": "CATEGORY", "rule_value": "shoes", "shot_type_ids": [back]}]},
        format="json",
    ).json()
    assert [(rule["rule_kind"], rule["rule_value"]) for rule in replaced["shot_type_rules"]] == [("CATEGORY", "shoes")]
    assert [item["id"] for item in replaced["shot_type_rules"][0]["shot_types"]] == [back]
    assert ShotTypeRule.objects.count() == 1

    refused = client.put(
        url,
        {"shot_type_rules": [{"rule_kind": "PLACEMENT", "rule_value": "TOP", "shot_type_ids": [front, str(user.pk)]}]},
        format="json",
    )
    assert ("body", "shot_type_rules", 0, "shot_type_ids", 1) in errors_of(refused)
    assert ShotTypeRule.objects.get().rule_kind == "CATEGORY"  # the refused update changed nothing

    cleared = client.put(url, {"shot_type_rules": []}, format="json").json()
    assert cleared["shot_type_rules"] == [] and not ShotTypeRule.objects.exists()
    assert [item["id"] for item in cleared["shot_types"]] == [front, back]


def test_lists_are_replaced_when_given_and_kept_when_null(user, catalogue):
    client = client_for(user)
    guideline = create(client, full_body(catalogue))
    url = f"{GUIDELINES}{guideline['id']}"
    kept = client.put(url, {"shot_type_ids": None, "subject_ids": None, "pose_preset_ids": None}, format="json")
    assert [item["name"] for item in kept.json()["shot_types"]] == ["front", "back"]
    changed = client.put(url, {"shot_type_ids": [str(catalogue["back"].pk)], "subject_ids": []}, format="json").json()
    assert [item["name"] for item in changed["shot_types"]] == ["back"]
    assert changed["subjects"] == [] and len(changed["pose_presets"]) == 1
    cleared = client.put(
        url, {"resolution_preset_id": None, "set_design_id": None, "stylist_id": None}, format="json"
    ).json()
    assert (cleared["resolution_preset_id"], cleared["set_design"], cleared["stylist_id"]) == (None, None, None)
    assert cleared["background_preset_id"] == guideline["background_preset_id"]


def test_deleted_relations_drop_out_of_the_response(user, catalogue):
    client = client_for(user)
    guideline = create(client, full_body(catalogue))
    catalogue["back"].delete()
    catalogue["subject"].delete()
    catalogue["pose"].delete()
    body = client.get(f"{GUIDELINES}{guideline['id']}").json()
    assert [item["name"] for item in body["shot_types"]] == ["front"]
    assert body["subjects"] == [] and body["pose_presets"] == []
    assert [[item["name"] for item in rule["shot_types"]] for rule in body["shot_type_rules"]] == [["front"], ["front"]]


# --- list, get, permissions -------------------------------------------------------------------------


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    assert_matches(response.json(), "ShootingGuidelinesListPublic")
    return [item["id"] for item in response.json()["data"]]


def test_the_list_shows_own_or_organization_guidelines_and_everything_to_superusers(user, other, admin):
    organization = organization_with(user, other)
    mine = create(client_for(user), {"name": "Mine"})
    team = create(client_for(other), {"name": "Team", "organization_id": str(organization.pk)})
    theirs = create(client_for(other), {"name": "Theirs"})
    assert ids(client_for(user).get(GUIDELINES)) == [mine["id"]]
    assert ids(client_for(user).get(GUIDELINES, {"organization_id": str(organization.pk)})) == [team["id"]]
    assert set(ids(client_for(admin).get(GUIDELINES))) == {mine["id"], team["id"], theirs["id"]}
    assert set(ids(client_for(admin).get(GUIDELINES, {"owner_id": str(other.pk)}))) == {team["id"], theirs["id"]}
    response = client_for(user).get(GUIDELINES, {"owner_id": str(other.pk)})
    assert response.status_code == 403
    outsider = client_for(UserFactory())
    response = outsider.get(GUIDELINES, {"organization_id": str(organization.pk)})
    assert response.json() == {"detail": "You are not a member of this organization."}
    assert client_for(None).get(GUIDELINES).status_code == 401


def test_get_update_and_delete_follow_the_organization_rules(user, other):
    organization = organization_with(user, other)
    team = create(client_for(user), {"name": "Team", "organization_id": str(organization.pk)})
    personal = create(client_for(user), {"name": "Personal"})
    outsider = client_for(UserFactory())
    assert client_for(other).get(f"{GUIDELINES}{team['id']}").status_code == 200
    assert client_for(other).get(f"{GUIDELINES}{personal['id']}").json() == {"detail": "Shooting guidelines not found."}
    assert outsider.get(f"{GUIDELINES}{team['id']}").status_code == 404
    assert outsider.put(f"{GUIDELINES}{team['id']}", {"name": "x"}, format="json").status_code == 404
    renamed = client_for(other).put(f"{GUIDELINES}{team['id']}", {"name": "Renamed"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"
    assert client_for(user).get(f"{GUIDELINES}not-an-id").status_code == 404


def test_delete_is_soft_and_restore_is_for_superusers(user, admin):
    guideline = create(client_for(user), {"name": "Doomed"})
    url = f"{GUIDELINES}{guideline['id']}"
    response = client_for(user).delete(url)
    assert response.json() == {"message": "Shooting guidelines deleted successfully"}
    assert client_for(user).get(url).status_code == 404
    assert client_for(user).post(f"{url}/restore").status_code == 403
    restored = client_for(admin).post(f"{url}/restore")
    assert restored.status_code == 200
    assert_matches(restored.json(), "ShootingGuidelinesPublic")
    assert client_for(user).get(url).status_code == 200


def test_the_list_query_count_does_not_grow_with_the_page(user, catalogue):
    client = client_for(user)
    create(client, full_body(catalogue))
    few = queries_for(lambda: client.get(GUIDELINES))
    for index in range(4):
        create(client, full_body(catalogue, name=f"G{index}"))
    assert queries_for(lambda: client.get(GUIDELINES)) == few


def test_pose_preset_and_set_design_images_are_purged_with_them(user):
    from datetime import timedelta

    from apps.core.models import MediaResource
    from apps.core.services import retention

    front = shot_type(user, name="front")
    media = resolve_media_input(image_b64(), user=user, field="x")
    pose = PosePreset.objects.create(owner=user, name="p", shot_type=front, pose_image=media)
    pose.delete()
    retention.purge_deleted(older_than=timedelta(0))
    assert not PosePreset.all_objects.exists()
    assert not MediaResource.all_objects.filter(pk=media.pk).exists()
