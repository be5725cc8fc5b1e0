"""Request and response bodies of the shooting guidelines endpoints, field by field as the Sartiq spec
has them (ShootingGuidelinesCreate / Update / Public / ListPublic, GuidelinesShotTypeRuleGroupInput,
GuidelinesShotTypeRuleGroup, PosePresetPublic, SetDesignPublic and its Set*Public parts)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.dialects.fields import StrictCharField, StrictUUIDField
from apps.core.sartiq.fields import MediaObjectField, MediaUrlField
from apps.subjects.api.serializers import SubjectPublicSerializer
from apps.subjects.models import Gender, SubjectAgeClass

from .. import selectors
from ..models import NAME_MAX_LENGTH, RULE_VALUE_MAX_LENGTH, ShotTypeRuleKind
from .serializers import PartialUpdateSerializer, ShotTypePublicSerializer

MAX_REFERENCES = 500
MAX_RULE_GROUPS = 200
#: rule_value of these kinds must be one of the named values.
RULE_VALUES = {ShotTypeRuleKind.GENDER: Gender.values, ShotTypeRuleKind.AGE_CLASS: SubjectAgeClass.values}


def _ids(**kwargs):
    return serializers.ListField(child=StrictUUIDField(), max_length=MAX_REFERENCES, **kwargs)


def _reference(**kwargs):
    return StrictUUIDField(required=False, allow_null=True, **kwargs)


class RuleGroupInputSerializer(serializers.Serializer):
    """GuidelinesShotTypeRuleGroupInput: one (rule_kind, rule_value) and its shot types."""

    rule_kind = serializers.ChoiceField(choices=ShotTypeRuleKind.choices)
    rule_value = StrictCharField(max_length=RULE_VALUE_MAX_LENGTH)
    shot_type_ids = serializers.ListField(child=StrictUUIDField(), allow_empty=False, max_length=MAX_REFERENCES)

    def validate(self, attrs):
        allowed = RULE_VALUES.get(attrs["rule_kind"])
        if allowed is not None and attrs["rule_value"] not in allowed:
            raise serializers.ValidationError(
                {"rule_value": [f"The rule_value of a {attrs['rule_kind']} rule is one of {', '.join(allowed)}."]},
                code="enum",
            )
        attrs["shot_type_ids"] = list(dict.fromkeys(attrs["shot_type_ids"]))
        return attrs


def _rules(**kwargs):
    # An explicit ListSerializer: with ``many=True`` DRF would let ``allow_null`` admit null items too.
    return serializers.ListSerializer(
        child=RuleGroupInputSerializer(), allow_null=True, required=False, max_length=MAX_RULE_GROUPS, **kwargs
    )


def _distinct_groups(groups):
    if groups is None:
        return groups
    seen, problems = set(), {}
    for index, group in enumerate(groups):
        key = (group["rule_kind"], group["rule_value"])
        if key in seen:
            problems[index] = {"rule_value": [f"The group ({key[0]}, {key[1]}) is given twice; give it once."]}
        seen.add(key)
    if problems:
        raise serializers.ValidationError(problems)
    return groups


class ShootingGuidelinesCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=NAME_MAX_LENGTH)
    auto_start_look_generations = serializers.BooleanField(default=True)
    allow_back_shots_without_back_image = serializers.BooleanField(default=False)
    resolution_preset_id = _reference(default=None)
    background_preset_id = _reference(default=None)
    set_design_id = _reference(default=None)
    stylist_id = _reference(default=None)
    export_configuration_id = _reference(default=None)
    generative_workflow_template_id = _reference(
        default=None,
        help_text=(
            "Optional generative workflow template attached at guideline creation. Cross-org and "
            "invalid-validation-status templates are rejected (422)."
        ),
    )
    shot_type_ids = _ids(required=False, default=list)
    subject_ids = _ids(required=False, default=list)
    pose_preset_ids = _ids(required=False, default=list)
    shot_type_rules = _rules(
        default=None,
        help_text=(
            "Optional list of shot-type rules created with the guideline (one transaction): one entry per "
            "(rule_kind, rule_value) with its shot_type_ids."
        ),
    )
    owner_id = _reference(default=None)
    organization_id = _reference(default=None, help_text="Organization these guidelines belong to")

    def validate_shot_type_rules(self, value):
        return _distinct_groups(value)


class ShootingGuidelinesUpdateSerializer(PartialUpdateSerializer):
    """Every field optional (PUT and PATCH are partial). ``null`` clears the preset, set design,
    stylist, export configuration and workflow template references; for the other fields it changes
    nothing. ``shot_type_rules`` replaces every rule when given (``[]`` clears them)."""

    not_nullable = (
        "name",
        "auto_start_look_generations",
        "allow_back_shots_without_back_image",
        "shot_type_ids",
        "subject_ids",
        "pose_preset_ids",
        "shot_type_rules",
        "owner_id",
    )

    name = StrictCharField(max_length=NAME_MAX_LENGTH, required=False, allow_null=True)
    auto_start_look_generations = serializers.BooleanField(required=False, allow_null=True)
    allow_back_shots_without_back_image = serializers.BooleanField(required=False, allow_null=True)
    resolution_preset_id = _reference()
    background_preset_id = _reference()
    set_design_id = _reference()
    stylist_id = _reference()
    export_configuration_id = _reference()
    shot_type_ids = _ids(required=False, allow_null=True)
    subject_ids = _ids(required=False, allow_null=True)
    pose_preset_ids = _ids(required=False, allow_null=True)
    shot_type_rules = _rules(
        help_text=(
            "Optional full-replace list of shot-type rules in group form. Omit to leave rules untouched; "
            "pass [] to clear all rules."
        )
    )
    owner_id = _reference()
    organization_id = _reference(help_text="Organization to transfer these guidelines to")
    generative_workflow_template_id = _reference(
        help_text="Optional generative workflow template; null clears it. Cross-org templates are rejected (422)."
    )

    def validate_shot_type_rules(self, value):
        return _distinct_groups(value)


# --- responses ---------------------------------------------------------------------------------------


class PosePresetPublicSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    name = serializers.CharField()
    prompt = serializers.CharField(allow_null=True)
    shot_type_id = serializers.UUIDField()
    owner_id = serializers.UUIDField()
    organization_id = serializers.UUIDField(allow_null=True)
    pose_image_url = MediaUrlField(source="pose_image")
    pose_image_media = MediaObjectField(source="pose_image")
    deleted_at = serializers.DateTimeField(allow_null=True)


class SetBaseImagePublicSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    subject_id = serializers.UUIDField()
    shot_type_id = serializers.UUIDField()
    image_url = MediaUrlField(source="image")
    image_media = MediaObjectField(source="image")
    variant_index = serializers.IntegerField()


class SetReferenceImagePublicSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    shot_type_id = serializers.UUIDField()
    image_url = MediaUrlField(source="image")
    image_media = MediaObjectField(source="image")
    label = serializers.CharField(allow_null=True)


class SubjectPortraitPublicSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    subject_id = serializers.UUIDField()
    image_media = MediaObjectField(source="image")


class SetDesignPublicSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    name = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    background_preset_id = serializers.UUIDField(allow_null=True)
    owner_id = serializers.UUIDField()
    organization_id = serializers.UUIDField(allow_null=True)
    base_images = SetBaseImagePublicSerializer(many=True)
    reference_images = SetReferenceImagePublicSerializer(many=True)
    subject_portraits = SubjectPortraitPublicSerializer(many=True)
    deleted_at = serializers.DateTimeField(allow_null=True)


class RuleGroupPublicSerializer(serializers.Serializer):
    """GuidelinesShotTypeRuleGroup."""

    rule_kind = serializers.ChoiceField(choices=ShotTypeRuleKind.choices)
    rule_value = serializers.CharField()
    shot_types = ShotTypePublicSerializer(many=True)


class ShootingGuidelinesPublicSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    name = serializers.CharField()
    auto_start_look_generations = serializers.BooleanField()
    allow_back_shots_without_back_image = serializers.BooleanField()
    owner_id = serializers.UUIDField(allow_null=True)
    organization_id = serializers.UUIDField(allow_null=True)
    resolution_preset_id = serializers.UUIDField(allow_null=True)
    background_preset_id = serializers.UUIDField(allow_null=True)
    set_design_id = serializers.UUIDField(allow_null=True)
    stylist_id = serializers.UUIDField(allow_null=True)
    export_configuration_id = serializers.UUIDField(allow_null=True)
    shot_types = serializers.SerializerMethodField()
    subjects = serializers.SerializerMethodField()
    pose_presets = serializers.SerializerMethodField()
    set_design = SetDesignPublicSerializer(allow_null=True)
    shot_type_rules = serializers.SerializerMethodField()
    generative_workflow_template_id = serializers.UUIDField(allow_null=True)
    deleted_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(ShotTypePublicSerializer(many=True))
    def get_shot_types(self, guideline) -> list:
        return ShotTypePublicSerializer(selectors.guideline_shot_types(guideline), many=True).data

    @extend_schema_field(SubjectPublicSerializer(many=True))
    def get_subjects(self, guideline) -> list:
        return SubjectPublicSerializer(selectors.guideline_subjects(guideline), many=True).data

    @extend_schema_field(PosePresetPublicSerializer(many=True))
    def get_pose_presets(self, guideline) -> list:
        return PosePresetPublicSerializer(selectors.guideline_pose_presets(guideline), many=True).data

    @extend_schema_field(RuleGroupPublicSerializer(many=True))
    def get_shot_type_rules(self, guideline) -> list:
        return RuleGroupPublicSerializer(selectors.rule_groups(guideline), many=True).data


class ShootingGuidelinesListPublicSerializer(serializers.Serializer):
    data = ShootingGuidelinesPublicSerializer(many=True)
    count = serializers.IntegerField()
