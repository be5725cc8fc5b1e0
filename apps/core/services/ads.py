"""Affiliate ads (AIMG ``getAffiliateAd``)."""

import random

from apps.core.errors import NotFound
from apps.core.models import AffiliateAd, Domain


def pick_affiliate_ad(*, domain: Domain, rng: random.Random | None = None) -> AffiliateAd:
    """One active ad of the site, chosen at random in proportion to its weight."""
    candidates = list(AffiliateAd.objects.filter(domain=domain, is_active=True).only("id", "text", "link", "weight"))
    if not candidates:
        raise NotFound("No affiliate ad is available for this site.")
    chooser = rng or random
    return chooser.choices(candidates, weights=[ad.weight for ad in candidates], k=1)[0]
