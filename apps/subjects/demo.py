"""Demo data of the subjects app: two shot types, a subject with a cover and a base image, and a
shooting guideline that lists them (all alice's; nothing is made again when it exists)."""

import io

from PIL import Image, ImageDraw

from apps.accounts.models import User
from apps.core.domains import default_domain
from apps.core.sartiq.media import store_image
from apps.guidelines import services as guidelines
from apps.guidelines.models import ShootingGuidelines, ShotType

from . import services
from .models import Subject

OWNER_EMAIL = "alice@example.com"
SHOT_TYPES = [
    {"name": "front_full_body", "view_angle": "front", "framing": "full_body", "default_shot_type": "front_full_body"},
    {"name": "back_full_body", "view_angle": "back", "framing": "full_body", "default_shot_type": "back_full_body"},
]
SUBJECT = {"name": "Demo", "surname": "Model", "age_class": "adult", "gender": "FEMALE", "body_type": "ATHLETIC"}
GUIDELINE = "Demo catalogue shoot"


def _portrait(color) -> bytes:
    image = Image.new("RGB", (384, 512), (236, 232, 226))
    draw = ImageDraw.Draw(image)
    draw.ellipse((142, 60, 242, 170), fill=color)
    draw.rounded_rectangle((112, 180, 272, 470), radius=40, fill=color)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def seed():
    owner = User.objects.filter(email__iexact=OWNER_EMAIL, domain=default_domain()).first()
    if owner is None:
        yield f"skipped: no user {OWNER_EMAIL} (the accounts demo makes it)"
        return
    shot_types = []
    for fields in SHOT_TYPES:
        shot_type = ShotType.objects.filter(owner=owner, organization__isnull=True, name=fields["name"]).first()
        if shot_type is None:
            shot_type = ShotType.objects.create(owner=owner, **fields)
        shot_types.append(shot_type)
    yield f"shot types {', '.join(s.name for s in shot_types)} of {owner.email}"
    subject = Subject.objects.filter(owner=owner, name=SUBJECT["name"], surname=SUBJECT["surname"]).first()
    state = "exists"
    if subject is None:
        cover = store_image(_portrait((120, 90, 160)), user=owner, source="demo", field="cover_image")
        subject = services.create_subject(
            user=owner, owner=owner, organization=None, data={**SUBJECT, "cover_image": None}
        )
        subject.cover_image = cover
        subject.save(update_fields=["cover_image", "updated_at"])
        front = store_image(_portrait((90, 120, 160)), user=owner, source="demo", field="base_image")
        services.set_base_image(user=owner, subject=subject, shot_type=shot_types[0], media=front)
        state = "created"
    yield f"subject {subject} ({state}, slug {subject.slug})"
    guideline = ShootingGuidelines.objects.filter(owner=owner, name=GUIDELINE).first()
    state = "exists"
    if guideline is None:
        data = {
            "name": GUIDELINE,
            "auto_start_look_generations": True,
            "allow_back_shots_without_back_image": True,
            "shot_type_ids": [s.pk for s in shot_types],
            "subject_ids": [subject.pk],
            "shot_type_rules": [{"rule_kind": "PLACEMENT", "rule_value": "TOP", "shot_type_ids": [shot_types[0].pk]}],
        }
        guidelines.create_guidelines(user=owner, owner=owner, organization=None, data=data)
        state = "created"
    subject.refresh_from_db()
    yield f"shooting guidelines '{GUIDELINE}' ({state}); the subject is {'ready' if subject.ready else 'not ready'}"
