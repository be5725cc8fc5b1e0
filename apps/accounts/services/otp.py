"""One-time sign-in codes: issuing, checking (single use, capped tries) and mailing them.

A code is 6 random digits, stored only as a keyed hash (HMAC with ``SECRET_KEY``), valid for
``OTP_TTL``, and used up by the first sign-in that presents it. Each address has at most one live
code: a new one voids the older ones, and only the newest live code is ever checked. A code
survives at most ``OTP_MAX_ATTEMPTS`` wrong tries.
"""

import base64
import hmac
import json
import math
import secrets
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import salted_hmac

from apps.core import queueing
from apps.core.errors import Conflict, RateLimited
from apps.core.models import Domain

from .. import selectors
from ..models import OneTimePassword

__all__ = [
    "EMAIL_REGISTERED",
    "consume_otp",
    "issue_otp",
    "magic_link",
    "normalize_otp_email",
    "otp_validity",
    "purge_stale_otps",
    "request_otp",
    "send_otp_email",
]

CODE_DIGITS = 6
_CODE_SPACE = 10**CODE_DIGITS
_HASH_SALT = "apps.accounts.otp.code"
_SEAL_SALT = "apps.accounts.otp.mail"

EMAIL_REGISTERED = "An account with this email already exists. Sign in instead."


def normalize_otp_email(email: str) -> str:
    """Codes belong to the lower-cased address, as users are unique per lower-cased email."""
    return (email or "").strip().lower()


def otp_validity() -> str:
    """How long a code lasts, in words ("24 hours")."""
    hours = settings.OTP_TTL / timedelta(hours=1)
    if hours >= 1:
        return "1 hour" if hours == 1 else f"{hours:g} hours"
    minutes = max(1, round(settings.OTP_TTL / timedelta(minutes=1)))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _new_code() -> str:
    return f"{secrets.randbelow(_CODE_SPACE):0{CODE_DIGITS}d}"


def _hash_code(*, domain_id, email: str, code: str) -> str:
    value = f"{domain_id}:{normalize_otp_email(email)}:{code}"
    return salted_hmac(_HASH_SALT, value, algorithm="sha256").hexdigest()


def _pad(otp_id) -> int:
    digest = salted_hmac(_SEAL_SALT, str(otp_id), algorithm="sha256").digest()
    return int.from_bytes(digest[:8], "big") % _CODE_SPACE


def _seal(*, otp_id, code: str) -> str:
    """The code masked with a pad only ``SECRET_KEY`` can derive (one pad per code).

    The mail task's arguments pass through the broker and are kept with the task's result, so they
    must not carry the code in the clear: what they carry is as useless without ``SECRET_KEY`` as
    the stored hash is.
    """
    return f"{(int(code) + _pad(otp_id)) % _CODE_SPACE:0{CODE_DIGITS}d}"


def _unseal(*, otp_id, sealed: str) -> str:
    return f"{(int(sealed) - _pad(otp_id)) % _CODE_SPACE:0{CODE_DIGITS}d}"


@transaction.atomic
def issue_otp(*, domain: Domain, email: str, sign_up: bool = False) -> tuple[OneTimePassword, str]:
    """A new code for ``email`` on ``domain``, returned once in the clear; older live codes are voided.

    Refused with 429 while the newest code of the address is younger than ``OTP_RESEND_COOLDOWN``.
    """
    otp, code, _ = _issue(domain=domain, email=email, sign_up=sign_up)
    return otp, code


def _issue(*, domain: Domain, email: str, sign_up: bool) -> tuple[OneTimePassword, str, list]:
    """``issue_otp`` inside the caller's transaction; also returns the ids of the codes it voided."""
    email = normalize_otp_email(email)
    of_address = OneTimePassword.objects.filter(domain=domain, email=email)
    # Lock the address's newest code, so two requests cannot both pass the cooldown check below
    # (a statement after the lock sees a code the other request committed meanwhile).
    list(of_address.select_for_update().order_by("-created_at").values_list("pk", flat=True)[:1])
    now = timezone.now()
    newest = of_address.order_by("-created_at").values_list("created_at", flat=True).first()
    cooldown = settings.OTP_RESEND_COOLDOWN
    if newest is not None and newest > now - cooldown:
        wait = max(1, math.ceil((newest + cooldown - now).total_seconds()))
        raise RateLimited(
            f"A code was sent to this address moments ago. Wait {wait} seconds before asking for a new one."
        )
    live = of_address.filter(consumed_at__isnull=True, voided_at__isnull=True)
    voided = list(live.values_list("pk", flat=True))
    OneTimePassword.objects.filter(pk__in=voided).update(voided_at=now)
    code = _new_code()
    otp = OneTimePassword.objects.create(
        domain=domain,
        email=email,
        code_hash=_hash_code(domain_id=domain.pk, email=email, code=code),
        expires_at=now + settings.OTP_TTL,
        sign_up=sign_up,
    )
    return otp, code, voided


def request_otp(*, domain: Domain, email: str, sign_up: bool = False) -> OneTimePassword:
    """AIMG requestOTP: issue a code and mail it (with a magic link) once the transaction commits.

    With ``sign_up`` an address that already has an account is refused (409); without it any
    address gets a code, because signing in with a code creates the account.
    """
    if sign_up and selectors.user_by_email(email=email, domain=domain) is not None:
        raise Conflict(EMAIL_REGISTERED)
    from ..tasks import send_otp_email as task

    with transaction.atomic():
        otp, code, voided = _issue(domain=domain, email=email, sign_up=sign_up)
        otp_id, sealed = str(otp.pk), _seal(otp_id=otp.pk, code=code)
        # A mail queue that is down takes the new code back and gives the voided ones back (no
        # code nobody received, no cooldown for nothing): QueueUnavailable, 503.
        queueing.send_after_commit(task, args=(otp_id, sealed), undo=lambda: _withdraw_unsent(otp_id, voided))
    return otp


def _withdraw_unsent(otp_id: str, voided: list) -> bool:
    with transaction.atomic():
        OneTimePassword.objects.filter(pk=otp_id, consumed_at__isnull=True).delete()
        OneTimePassword.objects.filter(pk__in=voided, consumed_at__isnull=True).update(voided_at=None)
    return True


def consume_otp(*, domain: Domain, email: str, code: str) -> bool:
    """True when ``code`` is the newest live code of ``email`` on ``domain``; it is then used up.

    Each call spends one try before comparing, with a conditional UPDATE, so concurrent guesses
    cannot exceed ``OTP_MAX_ATTEMPTS``; a right code gives its try back. Using the code up is a
    second conditional UPDATE: of two concurrent sign-ins with the same code, exactly one succeeds.

    Call it outside any transaction that a refusal rolls back, or the spent try is undone with it.
    """
    email = normalize_otp_email(email)
    now = timezone.now()
    live = OneTimePassword.objects.filter(consumed_at__isnull=True, voided_at__isnull=True, expires_at__gt=now)
    candidate = (
        OneTimePassword.objects.filter(domain=domain, email=email, consumed_at__isnull=True, voided_at__isnull=True)
        .order_by("-created_at")
        .only("pk", "code_hash", "expires_at")
        .first()
    )
    if candidate is None or candidate.expires_at <= now:
        return False
    spent = live.filter(pk=candidate.pk, failed_attempts__lt=settings.OTP_MAX_ATTEMPTS).update(
        failed_attempts=F("failed_attempts") + 1
    )
    if not spent:
        return False
    expected = _hash_code(domain_id=domain.pk, email=email, code=str(code))
    if not hmac.compare_digest(candidate.code_hash, expected):
        return False
    return bool(
        live.filter(pk=candidate.pk).update(consumed_at=now, failed_attempts=F("failed_attempts") - 1),
    )


def magic_link(*, domain: Domain, email: str, code: str) -> str | None:
    """The front end's sign-in link: its first origin with ``?b=`` the unpadded base64url of
    ``{"email", "otp"}``; None when the domain lists no front-end origin."""
    origins = domain.frontend_origins or []
    if not origins:
        return None
    payload = json.dumps({"email": email, "otp": code}, separators=(",", ":")).encode()
    token = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    parts = urlsplit(origins[0])
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", f"b={token}", ""))


def send_otp_email(*, otp_id: str, sealed_code: str) -> str:
    """Mail a code to its address; returns what happened (the task's recorded outcome).

    Nothing is sent for a code that was used, voided or expired meanwhile, nor when the sealed code
    does not match the stored hash.
    """
    otp = OneTimePassword.objects.select_related("domain").filter(pk=otp_id).first()
    if otp is None:
        return "skipped: the code no longer exists"
    if otp.consumed_at or otp.voided_at or otp.expires_at <= timezone.now():
        return "skipped: the code is no longer usable"
    code = _unseal(otp_id=otp.pk, sealed=sealed_code)
    if not hmac.compare_digest(otp.code_hash, _hash_code(domain_id=otp.domain_id, email=otp.email, code=code)):
        return "skipped: the sealed code does not match"
    domain = otp.domain
    context = {
        "site_name": domain.name,
        "email": otp.email,
        "code": code,
        "link": magic_link(domain=domain, email=otp.email, code=code),
        "valid_for": otp_validity(),
    }
    subject = f"Your sign-in code for {domain.name}"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("accounts/email/otp.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[otp.email],
    )
    message.attach_alternative(render_to_string("accounts/email/otp.html", context), "text/html")
    message.send()
    return "sent"


def purge_stale_otps(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete codes that expired more than ``older_than`` ago; returns how many."""
    _, per_model = OneTimePassword.objects.filter(expires_at__lt=timezone.now() - older_than).delete()
    return per_model.get(OneTimePassword._meta.label, 0)
