"""System checks of the billing settings."""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, register

from .processors import REGISTRY


@register()
def check_billing_settings(app_configs=None, **kwargs):
    errors = []
    for index, key in enumerate(getattr(settings, "BILLING_ENCRYPTION_KEYS", []) or []):
        try:
            Fernet(key.strip())
        except ValueError:
            errors.append(
                Error(
                    f"BILLING_ENCRYPTION_KEYS entry {index + 1} is not a Fernet key.",
                    hint="Make one with: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'",
                    id="billing.E001",
                )
            )
    for merchant, processor in (getattr(settings, "BILLING_CARD_PROCESSORS", {}) or {}).items():
        if processor and processor not in REGISTRY and "." not in processor:
            errors.append(
                Error(
                    f"The card processor {processor!r} for {merchant} is neither {', '.join(REGISTRY)} "
                    "nor the dotted path of a PaymentProcessor class.",
                    id="billing.E002",
                )
            )
    return errors
