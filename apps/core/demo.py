"""Demo data of the core app: a second branded site besides the default one."""

from .domains import default_domain
from .models import AffiliateAd, Domain, DomainHost

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
    yield from seed_ads()


DEMO_ADS = [
    ("Go Pro: faster generations and private folders.", "https://example.com/pro", 3),
    ("Join the community gallery.", "https://example.com/community", 1),
]


def seed_ads():
    domain = default_domain()
    for text, link, weight in DEMO_ADS:
        AffiliateAd.objects.get_or_create(domain=domain, link=link, defaults={"text": text, "weight": weight})
    yield f"{len(DEMO_ADS)} affiliate ads on {domain}"
