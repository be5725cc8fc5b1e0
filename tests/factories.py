import factory

from apps.accounts.models import Membership, Organization, User
from apps.core.models import Domain, DomainHost

PASSWORD = "Str0ng!Passw0rd"


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Domain

    name = factory.Sequence(lambda n: f"Site {n}")
    code = factory.Sequence(lambda n: f"site-{n}")
    environment = "production"
    frontend_origins = factory.LazyAttribute(lambda o: [f"https://{o.code}.example.com"])


class DomainHostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DomainHost

    domain = factory.SubFactory(DomainFactory)
    hostname = factory.Sequence(lambda n: f"api{n}.example.com")


def _default_domain():
    from apps.core.domains import default_domain

    return default_domain()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    domain = factory.LazyFunction(_default_domain)
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(self, create, extracted, **kwargs):
        if create:
            self.save()


class StaffFactory(UserFactory):
    is_staff = True


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    domain = factory.LazyFunction(_default_domain)
    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER
