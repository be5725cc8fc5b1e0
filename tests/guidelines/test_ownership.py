"""Organization scoping and transfer, owners and administrators, for every guidelines resource."""

import pytest

from apps.accounts.models import Membership
from apps.guidelines.models import ResolutionPreset, ShotType
from tests.factories import OrganizationFactory
from tests.guidelines.support import RESOLUTIONS, SHOT_TYPES, resolution_preset, shot_type
from tests.sartiq_schema import assert_matches
from tests.sartiq_support import client_for, member

pytestmark = pytest.mark.django_db

NOT_A_MEMBER = {"detail": "You are not a member of this organization."}
PRESET = {"name": "Full HD", "width": 1920, "height": 1080}


@pytest.fixture
def organization():
    return OrganizationFactory()


@pytest.fixture
def org_owner(organization):
    return member(organization, Membership.Role.OWNER)


# --- scoping ----------------------------------------------------------------------------------------


def test_organization_id_scopes_create_and_list(user, organization):
    member(organization, user=user)
    client = client_for(user)
    created = client.post(f"{RESOLUTIONS}?organization_id={organization.pk}", PRESET, format="json")
    assert created.status_code == 200
    assert_matches(created.json(), "ResolutionPresetPublic")
    assert created.json()["organization_id"] == str(organization.pk)
    personal = resolution_preset(user, name="mine")

    scoped = client.get(f"{RESOLUTIONS}?organization_id={organization.pk}").json()
    assert_matches(scoped, "ResolutionPresetsPublic")
    assert [row["id"] for row in scoped["data"]] == [created.json()["id"]]
    unscoped = client.get(RESOLUTIONS).json()
    assert [row["id"] for row in unscoped["data"]] == [str(personal.pk)]


def test_the_body_organization_id_wins_over_the_query(user, organization):
    member(organization, user=user)
    elsewhere = OrganizationFactory()
    body = (
        client_for(user)
        .post(
            f"{RESOLUTIONS}?organization_id={elsewhere.pk}",
            {**PRESET, "organization_id": str(organization.pk)},
            format="json",
        )
        .json()
    )
    assert body["organization_id"] == str(organization.pk)


@pytest.mark.parametrize("where", ["query", "body"])
def test_non_members_are_refused_with_a_403(user, organization, where):
    resolution_preset(member(organization), organization=organization)
    client = client_for(user)
    if where == "query":
        listed = client.get(f"{SHOT_TYPES}?organization_id={organization.pk}")
        created = client.post(f"{RESOLUTIONS}?organization_id={organization.pk}", PRESET, format="json")
    else:
        listed = client.get(f"{RESOLUTIONS}?organization_id=00000000-0000-0000-0000-000000000001")
        created = client.post(RESOLUTIONS, {**PRESET, "organization_id": str(organization.pk)}, format="json")
    assert (listed.status_code, listed.json()) == (403, NOT_A_MEMBER)
    assert (created.status_code, created.json()) == (403, NOT_A_MEMBER)
    assert not ResolutionPreset.objects.filter(owner=user).exists()


def test_members_read_and_change_organization_resources_without_the_parameter(user, organization):
    member(organization, user=user)
    colleague = member(organization)
    preset = resolution_preset(colleague, organization=organization)
    client = client_for(user)
    assert client.get(f"{RESOLUTIONS}{preset.pk}").status_code == 200
    assert client.get(f"{RESOLUTIONS}{preset.pk}?organization_id={organization.pk}").status_code == 200
    assert client.patch(f"{RESOLUTIONS}{preset.pk}", {"width": 1280}, format="json").json()["width"] == 1280
    outsider = client_for(member(OrganizationFactory()))
    assert outsider.get(f"{RESOLUTIONS}{preset.pk}").status_code == 404
    assert outsider.get(f"{RESOLUTIONS}{preset.pk}?organization_id={organization.pk}").status_code == 403


def test_a_personal_resource_is_not_found_within_an_organization(user, organization):
    member(organization, user=user)
    preset = resolution_preset(user)
    assert client_for(user).get(f"{RESOLUTIONS}{preset.pk}?organization_id={organization.pk}").status_code == 404


def test_public_shot_types_of_an_organization_are_listed_on_request(user, organization, other):
    member(organization, user=user)
    shared = shot_type(user, name="org", organization=organization, public=False)
    public = shot_type(other, name="public")
    client = client_for(user)
    scoped = client.get(f"{SHOT_TYPES}?organization_id={organization.pk}").json()
    assert [row["id"] for row in scoped["data"]] == [str(shared.pk)]
    both = client.get(f"{SHOT_TYPES}?organization_id={organization.pk}&include_public=true").json()
    assert {row["id"] for row in both["data"]} == {str(shared.pk), str(public.pk)}


def test_shot_type_names_are_unique_within_an_organization(user, organization):
    member(organization, user=user)
    colleague = member(organization)
    shot_type(colleague, name="front", organization=organization)
    body = {"name": "front", "view_angle": "front", "framing": "full_body", "organization_id": str(organization.pk)}
    assert client_for(user).post(SHOT_TYPES, body, format="json").status_code == 409
    assert client_for(user).post(SHOT_TYPES, {**body, "organization_id": None}, format="json").status_code == 200


# --- transfer ---------------------------------------------------------------------------------------


def _transfer(user, resource, organization_id):
    url = f"{RESOLUTIONS}{resource.pk}"
    return client_for(user).put(url, {"organization_id": organization_id}, format="json")


def test_a_member_moves_a_personal_resource_into_the_organization(user, organization):
    member(organization, user=user)
    preset = resolution_preset(user)
    response = _transfer(user, preset, str(organization.pk))
    assert response.status_code == 200
    assert_matches(response.json(), "ResolutionPresetPublic")
    assert response.json()["organization_id"] == str(organization.pk)


def test_moving_into_an_organization_needs_membership(user, organization):
    preset = resolution_preset(user)
    response = _transfer(user, preset, str(organization.pk))
    assert (response.status_code, response.json()) == (403, NOT_A_MEMBER)
    preset.refresh_from_db()
    assert preset.organization is None


@pytest.mark.parametrize("role", [Membership.Role.MEMBER, Membership.Role.ADMIN])
def test_only_the_organization_owner_moves_a_resource_out(user, organization, org_owner, role):
    member(organization, role, user=user)
    preset = resolution_preset(user, organization=organization)
    refused = _transfer(user, preset, None)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Only the organization's owner may move a resource out of it."}
    other_org = OrganizationFactory()
    member(other_org, user=user)
    assert _transfer(user, preset, str(other_org.pk)).status_code == 403

    moved = _transfer(org_owner, preset, None)
    assert moved.status_code == 200 and moved.json()["organization_id"] is None
    preset.refresh_from_db()
    assert preset.organization is None and preset.owner == user  # back to its owner's personal resources


def test_the_owner_moves_between_organizations(organization, org_owner):
    target = OrganizationFactory()
    member(target, user=org_owner)
    preset = resolution_preset(org_owner, organization=organization)
    assert _transfer(org_owner, preset, str(target.pk)).json()["organization_id"] == str(target.pk)


def test_naming_the_current_organization_is_no_transfer(user, organization):
    member(organization, user=user)
    preset = resolution_preset(user, organization=organization)
    assert _transfer(user, preset, str(organization.pk)).status_code == 200


def test_admins_transfer_anything(admin, organization, org_owner):
    preset = resolution_preset(org_owner, organization=organization)
    assert _transfer(admin, preset, None).json()["organization_id"] is None
    assert _transfer(admin, preset, str(organization.pk)).json()["organization_id"] == str(organization.pk)


def test_transfers_move_shot_types_and_check_their_names(user, organization):
    member(organization, user=user)
    shot_type(member(organization), name="front", organization=organization)
    mine = shot_type(user, name="front")
    response = client_for(user).put(f"{SHOT_TYPES}{mine.pk}", {"organization_id": str(organization.pk)}, format="json")
    assert response.status_code == 409
    assert ShotType.objects.get(pk=mine.pk).organization is None


# --- owners -----------------------------------------------------------------------------------------


def test_only_admins_create_for_someone_else(user, other, admin):
    refused = client_for(user).post(RESOLUTIONS, {**PRESET, "owner_id": str(other.pk)}, format="json")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Only administrators may set another owner."}
    own = client_for(user).post(RESOLUTIONS, {**PRESET, "owner_id": str(user.pk)}, format="json")
    assert own.json()["owner_id"] == str(user.pk)
    given = client_for(admin).post(RESOLUTIONS, {**PRESET, "owner_id": str(other.pk)}, format="json")
    assert given.status_code == 200 and given.json()["owner_id"] == str(other.pk)
    unknown = client_for(admin).post(
        RESOLUTIONS, {**PRESET, "owner_id": "00000000-0000-0000-0000-000000000002"}, format="json"
    )
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "owner_id"]


def test_an_organization_resource_belongs_to_a_member(admin, other, organization):
    response = client_for(admin).post(
        RESOLUTIONS, {**PRESET, "owner_id": str(other.pk), "organization_id": str(organization.pk)}, format="json"
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "owner_id"],
            "msg": "The owner must be a member of the resource's organization.",
            "type": "value_error",
        }
    ]


def test_admins_reassign_owners_and_others_cannot(user, other, admin):
    preset = resolution_preset(user)
    assert (
        client_for(user).patch(f"{RESOLUTIONS}{preset.pk}", {"owner_id": str(other.pk)}, format="json").status_code
        == 403
    )
    moved = client_for(admin).patch(f"{RESOLUTIONS}{preset.pk}", {"owner_id": str(other.pk)}, format="json")
    assert moved.json()["owner_id"] == str(other.pk)
    assert client_for(user).get(f"{RESOLUTIONS}{preset.pk}").status_code == 404


def test_admins_see_everything_and_filter_by_owner(user, other, admin, organization, org_owner):
    mine = resolution_preset(user)
    theirs = resolution_preset(other)
    org = resolution_preset(org_owner, organization=organization)
    everything = client_for(admin).get(RESOLUTIONS).json()
    assert {row["id"] for row in everything["data"]} == {str(mine.pk), str(theirs.pk), str(org.pk)}
    only = client_for(admin).get(f"{RESOLUTIONS}?owner_id={other.pk}").json()
    assert [row["id"] for row in only["data"]] == [str(theirs.pk)]
    scoped = client_for(admin).get(f"{RESOLUTIONS}?organization_id={organization.pk}").json()
    assert [row["id"] for row in scoped["data"]] == [str(org.pk)]
    assert client_for(admin).get(f"{RESOLUTIONS}{theirs.pk}").status_code == 200
    assert client_for(user).get(f"{RESOLUTIONS}?owner_id={user.pk}").status_code == 403
