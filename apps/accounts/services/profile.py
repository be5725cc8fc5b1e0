"""The user's own profile (properties, profile picture, key-value pairs, deletion) and its
moderation (abuse level, profile picture ban, staff notes).

Writes change only the columns they own (``UPDATE … SET``), so a moderator's change and the user's
own change made at the same time never overwrite each other.
"""

import base64
import binascii
import re
import unicodedata

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import Conflict, InvalidInput, PermissionDenied
from apps.core.media import MediaRejected, MediaTooLarge, process_image
from apps.core.media.policies import AIMG_PROFILE_PICTURE, MIB

from .. import profile as account_profile
from .. import selectors
from ..models import AccessToken, AdminKey, ApiSession, ArchivedEmail, User, UserKeyValue
from ..signals import user_deleted
from . import otp as otp_codes
from .core import revoke_sessions
from .signin import SIGN_IN_BLOCKED_LEVEL

__all__ = [
    "GENERATION_BLOCKED_LEVEL",
    "MAX_ABUSE_LEVEL",
    "MAX_ADDITIONAL_INFORMATION_CHARS",
    "MAX_PICTURE_BASE64_CHARS",
    "PICTURE_MAX_SIDE",
    "assert_may_generate",
    "delete_key_value",
    "delete_user",
    "picture_too_large",
    "set_abuse_level",
    "set_additional_information",
    "set_key_value",
    "set_profile_picture",
    "set_profile_picture_banned",
    "set_self_user_properties",
    "validate_kvp_key",
]

MAX_ABUSE_LEVEL = 9
GENERATION_BLOCKED_LEVEL = 1
MAX_USERNAME_CHARS = User._meta.get_field("username").max_length
MAX_EMAIL_CHARS = User._meta.get_field("email").max_length
MAX_ADDITIONAL_INFORMATION_CHARS = 64 * 1024
PICTURE_MAX_SIDE = 1024
PICTURE_FORMATS = "JPEG, PNG, TIFF or WebP"
# Base64 of the largest accepted picture: 4 characters for every 3 bytes, padded.
MAX_PICTURE_BASE64_CHARS = 4 * -(-AIMG_PROFILE_PICTURE.max_bytes // 3)
_DATA_URI = re.compile(r"^data:(?P<type>[^,;]*)(?P<params>(?:;[^,;]*)*?);base64,", re.IGNORECASE)
_WHITESPACE = re.compile(rb"\s+")


# --- the user's own properties --------------------------------------------------------------------


def set_self_user_properties(
    *,
    user: User,
    session: ApiSession | None,
    username: str | None = None,
    password: str | None = None,
    email: str | None = None,
    otp: str | None = None,
    is_at_least_18_confirmed: bool | None = None,
) -> User:
    """Change the user's username, password, email and/or 18+ confirmation (AIMG setSelfUserProperties).

    Everything is checked before anything changes, so a refused call changes nothing. A new email
    needs the OTP sent to it; the old one is archived. A new password signs every other session
    out (``session`` is kept).
    """
    if username is None and password is None and email is None and is_at_least_18_confirmed is None:
        raise InvalidInput("Give at least one of username, password, email or isAtLeast18Confirmed to change.")
    changes: dict = {}
    if username is not None:
        changes["username"] = _check_username(user, username)
    if password is not None:
        _check_password(user, password)
    old_email = user.email
    if email is not None:
        changes["email"] = _check_email_change(user, email)
        if not (otp or "").strip():
            message = (
                "Changing the email needs the one-time password sent to the new address: request it with "
                "requestOTP (the new email, signUp true) and send it as otp."
            )
            raise InvalidInput(message, errors={("otp",): [message]})
        # Consumed last, once nothing else can refuse the change; a wrong code counts as a failed attempt.
        if not otp_codes.consume_otp(domain=user.domain, email=changes["email"], code=otp.strip()):
            message = (
                "The one-time password is wrong or has expired. Request a new one for the new email with "
                "requestOTP (signUp true)."
            )
            raise InvalidInput(message, errors={("otp",): [message]})
    if is_at_least_18_confirmed is not None:
        changes["is_at_least_18_confirmed"] = bool(is_at_least_18_confirmed)
    if password is not None:
        changes["password"] = make_password(password)

    try:
        with transaction.atomic():
            changes["updated_at"] = timezone.now()
            User.objects.filter(pk=user.pk).update(**changes)
            if "email" in changes:
                ArchivedEmail.objects.create(user=user, email=old_email)
            if password is not None:
                revoke_sessions(user=user, keep=session)
    except IntegrityError as exc:  # the username or email was taken at the same moment
        email_clash = "email" in changes and selectors.email_taken(email=changes["email"], domain=user.domain)
        raise Conflict(f"This {'email' if email_clash else 'username'} is already in use. Choose another one.") from exc
    for name, value in changes.items():
        setattr(user, name, value)
    return user


def _check_username(user: User, username: str) -> str:
    username = username.strip()
    if not username:
        raise InvalidInput("The username cannot be empty.", errors={("username",): ["The username cannot be empty."]})
    if len(username) > MAX_USERNAME_CHARS:
        message = f"The username may be at most {MAX_USERNAME_CHARS} characters long."
        raise InvalidInput(message, errors={("username",): [message]})
    if any(unicodedata.category(ch).startswith("C") for ch in username):
        message = "The username may not contain control or invisible formatting characters."
        raise InvalidInput(message, errors={("username",): [message]})
    if selectors.username_taken(username=username, domain=user.domain, exclude=user):
        raise Conflict(f"The username {username} is already taken. Choose another one.")
    return username


def _check_password(user: User, password: str) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), errors={("password",): exc.messages}) from exc


def _check_email_change(user: User, email: str) -> str:
    """The normalized new email, or the refusal the spec lists for it."""
    email = User.objects.normalize_email(email.strip())
    try:
        if len(email) > MAX_EMAIL_CHARS:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError as exc:
        message = "The new email is not a valid email address."
        raise InvalidInput(message, errors={("email",): [message]}) from exc
    if email.lower() == user.email.lower():
        message = "The new email is the same as the current one."
        raise InvalidInput(message, errors={("email",): [message]})
    if selectors.has_external_login(user):
        raise PermissionDenied(
            "Your email cannot be changed: you have signed in with an external login provider using it."
        )
    tier = account_profile.tier_info(user)
    if tier.tier > 0:
        raise PermissionDenied("Your email cannot be changed while your account has a PRO tier.")
    if tier.merchant_processor or tier.subscriptions:
        raise PermissionDenied(
            "Your email cannot be changed while you have a subscription through a merchant processor."
        )
    if selectors.email_taken(email=email, domain=user.domain, exclude=user):
        raise Conflict("This email is already in use. Choose another one.")
    return email


# --- profile picture ----------------------------------------------------------------------------


def set_profile_picture(*, user: User, data_uri: str) -> User:
    """Store the picture of a base64 data URI as a 128x128 WebP, or remove it when ``data_uri`` is ""
    (AIMG setSelfUserProfilePicture). Refused while the user's picture is banned."""
    if user.profile_picture_banned:
        raise _banned()
    picture = _normalize_picture(data_uri) if data_uri else None
    with transaction.atomic():
        changed = User.objects.filter(pk=user.pk, profile_picture_banned=False).update(
            profile_picture=picture, updated_at=timezone.now()
        )
    if not changed:  # banned in the meantime
        raise _banned()
    user.profile_picture = picture
    return user


def _banned() -> PermissionDenied:
    return PermissionDenied("Your profile picture has been banned by a moderator: you cannot change it.")


def _normalize_picture(data_uri: str) -> bytes:
    """The 128x128 WebP of a data URI's image, checked against the spec's limits."""
    match = _DATA_URI.match(data_uri[:1024])
    if match is None:
        message = "The profile picture must be a base64 data URI (data:image/png;base64,…)."
        raise MediaRejected(message, code="not_a_data_uri", field="profilePicture")
    encoded = data_uri[match.end() :].encode("ascii", errors="replace")
    encoded = _WHITESPACE.sub(b"", encoded)
    if len(encoded) > MAX_PICTURE_BASE64_CHARS:
        raise picture_too_large()
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        message = "The profile picture's data URI does not hold valid base64."
        raise MediaRejected(message, code="not_a_data_uri", field="profilePicture") from exc
    try:
        processed = process_image(content, policy=AIMG_PROFILE_PICTURE, field="profilePicture")
    except MediaRejected as exc:
        raise _explained(exc) from exc
    if max(processed.width, processed.height) > PICTURE_MAX_SIDE:
        raise _too_many_pixels(f"The image is {processed.width}x{processed.height} pixels. ")
    return processed.thumbnail


def picture_too_large() -> MediaTooLarge:
    """The refusal of a picture over the byte cap, raised before anything is decoded."""
    limit = AIMG_PROFILE_PICTURE.max_bytes
    return MediaTooLarge(f"Profile pictures may be at most {limit / MIB:g} MB ({limit:,} bytes); send a smaller image.")


def _explained(exc: MediaRejected) -> MediaRejected:
    """The pipeline's refusal, worded with this use's own limits."""
    if exc.code == "too_many_pixels":
        return _too_many_pixels("")
    if exc.code in ("format_not_allowed", "not_an_image"):
        first_sentence = exc.message.split(". ", 1)[0].rstrip(".")
        message = f"{first_sentence}. Profile pictures must be {PICTURE_FORMATS} images."
        return MediaRejected(message, code=exc.code, field="profilePicture")
    return exc


def _too_many_pixels(prefix: str) -> MediaRejected:
    limit = f"{PICTURE_MAX_SIDE}x{PICTURE_MAX_SIDE}"
    message = f"{prefix}Profile pictures may be at most {limit} pixels; send a smaller image."
    return MediaRejected(message, code="too_many_pixels", field="profilePicture")


# --- key-value pairs ------------------------------------------------------------------------------


def validate_kvp_key(key: str) -> None:
    """InvalidInput unless ``key`` is a usable key-value pair key (1 to MAX_KEY_LENGTH characters)."""
    if not key:
        raise InvalidInput("The key cannot be empty.", errors={("key",): ["The key cannot be empty."]})
    if len(key) > UserKeyValue.MAX_KEY_LENGTH:
        message = f"The key may be at most {UserKeyValue.MAX_KEY_LENGTH} characters long; it has {len(key)}."
        raise InvalidInput(message, errors={("key",): [message]})


def set_key_value(*, user: User, key: str, value: str) -> UserKeyValue:
    """Store ``value`` under ``key`` for the user, replacing any previous value (AIMG setUserKVP)."""
    validate_kvp_key(key)
    size = len(value.encode("utf-8"))
    if size > UserKeyValue.MAX_VALUE_BYTES:
        message = (
            f"The value may be at most {UserKeyValue.MAX_VALUE_BYTES:,} bytes "
            f"({UserKeyValue.MAX_VALUE_BYTES // 1024} KiB) in UTF-8; it has {size:,}."
        )
        raise InvalidInput(message, errors={("value",): [message]})
    with transaction.atomic():
        # One writer per user at a time, so two new keys cannot both pass the count check.
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
        updated = UserKeyValue.objects.filter(user=user, key=key).update(value=value, updated_at=timezone.now())
        if not updated:
            if selectors.key_value_count(user) >= UserKeyValue.MAX_KEYS_PER_USER:
                raise InvalidInput(
                    f"You already have {UserKeyValue.MAX_KEYS_PER_USER} keys, the most a user may have. "
                    "Delete one with deleteUserKVP before adding another."
                )
            UserKeyValue.objects.create(user=user, key=key, value=value)
    return selectors.key_value(user=user, key=key)


def delete_key_value(*, user: User, key: str) -> bool:
    """Remove the user's value under ``key``; False when there was none (AIMG deleteUserKVP)."""
    validate_kvp_key(key)
    with transaction.atomic():
        deleted, _ = UserKeyValue.objects.filter(user=user, key=key).delete()
    return bool(deleted)


# --- deletion -------------------------------------------------------------------------------------


@transaction.atomic
def delete_user(*, user: User, delete_items: bool = False) -> bool:
    """Soft-delete the user and sign them out everywhere (AIMG deleteUser). ``user_deleted`` tells the
    other apps, in the same transaction; the items app deletes the user's items when ``delete_items``.
    False when the user was already deleted."""
    count, _ = user.delete()
    if not count:
        return False
    revoke_sessions(user=user)
    user_deleted.send(sender=User, user=user, delete_items=bool(delete_items))
    return True


# --- moderation -----------------------------------------------------------------------------------


@transaction.atomic
def set_abuse_level(*, user: User, level: int) -> User:
    """Set the user's abuse level (AIMG setUserAbuseLevel): 0 no limits, 1 and above generation
    blocked, 9 signed out everywhere (API sessions, bearer tokens, admin keys) and sign-in blocked."""
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= MAX_ABUSE_LEVEL:
        message = f"The abuse level must be a whole number from 0 to {MAX_ABUSE_LEVEL}."
        raise InvalidInput(message, errors={("abuse",): [message]})
    User.objects.filter(pk=user.pk).update(abuse_level=level, updated_at=timezone.now())
    user.abuse_level = level
    if level >= SIGN_IN_BLOCKED_LEVEL:
        now = timezone.now()
        revoke_sessions(user=user)
        AccessToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        AdminKey.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    return user


def assert_may_generate(user) -> None:
    """PermissionDenied when the user's abuse level blocks generation (level 1 and above).

    The generation step calls this before it accepts any image or video job, for every workflow.
    A guest (no user) has no abuse level and is not refused here.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return
    if user.abuse_level >= GENERATION_BLOCKED_LEVEL:
        raise PermissionDenied(
            "Image and video generation is blocked for this account. Contact support if you think this is a mistake."
        )


@transaction.atomic
def set_profile_picture_banned(*, user: User, banned: bool) -> User:
    """Ban (and remove) or unban the user's profile picture; unbanning does not bring it back."""
    changes = {"profile_picture_banned": bool(banned), "updated_at": timezone.now()}
    if banned:
        changes["profile_picture"] = None
    User.objects.filter(pk=user.pk).update(**changes)
    for name, value in changes.items():
        setattr(user, name, value)
    return user


@transaction.atomic
def set_additional_information(*, user: User, text: str | None) -> User:
    """Replace the staff notes about the user; None or "" removes them."""
    text = text or ""
    if len(text) > MAX_ADDITIONAL_INFORMATION_CHARS:
        message = f"The additional information may be at most {MAX_ADDITIONAL_INFORMATION_CHARS:,} characters long."
        raise InvalidInput(message, errors={("additionalInformation",): [message]})
    User.objects.filter(pk=user.pk).update(additional_information=text, updated_at=timezone.now())
    user.additional_information = text
    return user
