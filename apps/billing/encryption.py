"""Encryption at rest for the secrets billing keeps (the Boosty admin account's cookies).

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) with the keys of
``settings.BILLING_ENCRYPTION_KEYS``: the first encrypts, every one decrypts, so a key is rotated
by putting the new one first. Without configured keys, one key is derived from ``SECRET_KEY``.
"""

import base64
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac

_DERIVATION_SALT = "apps.billing.encryption"


class UndecryptableValue(Exception):
    """The stored value cannot be decrypted with the configured keys."""


def derived_key() -> bytes:
    digest = salted_hmac(_DERIVATION_SALT, "fernet-key", secret=settings.SECRET_KEY, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest)


def configured_keys() -> list[str]:
    return [key.strip() for key in getattr(settings, "BILLING_ENCRYPTION_KEYS", []) or [] if key.strip()]


def _box() -> MultiFernet:
    keys = configured_keys() or [derived_key()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt_json(value) -> str:
    return _box().encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()


def decrypt_json(token: str):
    try:
        return json.loads(_box().decrypt(token.encode()))
    except InvalidToken as exc:
        raise UndecryptableValue("The value cannot be decrypted with the configured keys.") from exc
