"""Demo people: a superuser, a moderator, two users, and an organization."""

from django.contrib.auth.models import Group

from apps.core.domains import default_domain

from . import services
from .models import Organization, User

PASSWORD = "Atelier-demo-1"  # noqa: S105 - demo data, printed by make run
PEOPLE = [
    {"email": "admin@example.com", "username": "admin", "is_staff": True, "is_superuser": True, "role": "admin"},
    {"email": "moderator@example.com", "username": "moderator", "is_staff": True, "role": "moderator"},
    {"email": "alice@example.com", "username": "alice"},
    {"email": "bob@example.com", "username": "bob"},
]


def seed():
    domain = default_domain()
    users = {}
    for person in PEOPLE:
        person = dict(person)
        role = person.pop("role", None)
        user = User.objects.filter(email__iexact=person["email"], domain=domain).first()
        state = "exists"
        if user is None:
            user = User.objects.create_user(password=PASSWORD, domain=domain, **person)
            state = "created"
        if role:
            user.groups.add(Group.objects.get(name=role))
        users[person["username"]] = user
        yield f"user {user.email} / {PASSWORD} ({state}{', ' + role if role else ''})"
    organization = Organization.objects.filter(domain=domain, slug="demo-studio").first()
    if organization is None:
        organization = services.create_organization(domain=domain, name="Demo Studio", owner=users["alice"])
        state = "created"
    else:
        state = "exists"
    services.set_membership(organization=organization, user=users["bob"], role="member")
    yield f"organization {organization.name} ({state}): alice owner, bob member"
