"""Demo data of the core app: a second branded site besides the default one."""

from .models import Domain, DomainHost

DEMO_DOMAIN = {
    "code": "freejourney-staging",
    "name": "FreeJourney.ai",
    "environment": "staging",
    "frontend_origins": ["https://staging.freejourney.ai", "http://localhost:5173"],
}
DEMO_HOSTS = ["staging-api.freejourney.localhost"]


def seed():
    domain, created = Domain.objects.get_or_create(code=DEMO_DOMAIN["code"], defaults=DEMO_DOMAIN)
    for hostname in DEMO_HOSTS:
        DomainHost.objects.get_or_create(hostname=hostname, defaults={"domain": domain})
    yield f"domain {domain} ({'created' if created else 'exists'}), hosts: {', '.join(DEMO_HOSTS)}"
