"""Sign-up and sign-in (password, one-time code), sign-out, and the session rotation every way in
(OAuth included) shares."""

import re
import secrets
import string

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import Conflict, InvalidInput, NotAuthenticated, PermissionDenied
from apps.core.models import Domain

from .. import selectors
from ..models import ApiSession, User
from ..signals import guest_session_signed_in
from ..validators import SPECIAL_CHARACTERS
from .core import create_session
from .otp import EMAIL_REGISTERED, consume_otp

__all__ = [
    "assert_may_sign_in",
    "authenticate_user",
    "create_user",
    "generate_strong_password",
    "remember_age_confirmation",
    "sign_in",
    "sign_out",
]

SIGN_IN_BLOCKED_LEVEL = 9

CREDENTIAL_REQUIRED = "Send a password or a one-time code (otp): at least one of them is required."
CREDENTIALS_REFUSED = "The email or the password is not correct."
CODE_REFUSED = "The one-time code is not correct, has expired or was already used. Ask for a new one."
USERNAME_RULE = "A username may only contain letters, digits and the characters . _ + -"
_USERNAME = re.compile(r"^[\w.+-]+\Z")

GENERATED_PASSWORD_LENGTH = 20
MIN_GENERATED_PASSWORD_LENGTH = 16
# The spec's special characters without quotes and the backslash, which are awkward to copy and paste.
_GENERATED_SPECIALS = "".join(ch for ch in SPECIAL_CHARACTERS if ch not in "'\"\\")


def assert_may_sign_in(user: User) -> None:
    if user.abuse_level >= SIGN_IN_BLOCKED_LEVEL or not user.is_active or user.is_deleted:
        raise PermissionDenied("This account cannot sign in.")


@transaction.atomic
def sign_in(*, user: User, session: ApiSession | None, domain, ip_address=None, user_agent: str = "") -> ApiSession:
    """Open a signed-in session for ``user`` and return it; the old session id stops working.

    A guest session's belongings move to the user first (``guest_session_signed_in``), and its
    18+ confirmation carries over. The new session has a new id: the caller returns it as
    ``sessionID``.
    """
    assert_may_sign_in(user)
    if session is not None and session.user_id is None:
        guest_session_signed_in.send(sender=ApiSession, session=session, user=user)
        if session.is_at_least_18_confirmed and not user.is_at_least_18_confirmed:
            User.objects.filter(pk=user.pk).update(is_at_least_18_confirmed=True)
            user.is_at_least_18_confirmed = True
    if session is not None:
        ApiSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return create_session(domain=domain, user=user, ip_address=ip_address, user_agent=user_agent)


def _check_password_rule(password: str, *, email: str, username: str) -> None:
    """The spec's rule plus Django's common-password and similarity checks (AUTH_PASSWORD_VALIDATORS)."""
    try:
        validate_password(password, user=User(email=email, username=username))
    except DjangoValidationError as exc:
        raise InvalidInput(errors={("password",): exc.messages}) from exc


def _check_username(username: str) -> None:
    if len(username) > 150:
        raise InvalidInput(errors={("username",): ["A username has at most 150 characters."]})
    if not _USERNAME.match(username):
        raise InvalidInput(errors={("username",): [USERNAME_RULE]})


def _username_taken(message_name: str) -> Conflict:
    return Conflict(f"The username '{message_name}' is already taken.")


def _password_matches(user: User, password: str) -> bool:
    if not user.has_usable_password():
        User().set_password(password)  # the same work as a real check: no timing oracle
        return False
    return user.check_password(password)


def _insert_user(*, domain: Domain, email: str, username: str, password: str | None, **fields) -> User:
    """A new user; 409 when a live user of the domain has the email, or the chosen username.

    An automatic username (from the email) that another sign-up takes meanwhile is replaced by the
    next free one.
    """
    for _ in range(3):
        extra = {"username": username} if username else {}
        try:
            with transaction.atomic():
                return User.objects.create_user(email, password or None, domain, **extra, **fields)
        except IntegrityError as exc:
            if selectors.user_by_email(email=email, domain=domain) is not None:
                raise Conflict(EMAIL_REGISTERED) from exc
            if username:
                raise _username_taken(username) from exc
    raise Conflict("No free username could be derived from this email; choose one.")


def _record_sign_in(user: User, *, with_otp: bool, with_password: bool, adult: bool) -> None:
    changes = {}
    if with_otp and not user.has_signed_in_with_otp:
        changes["has_signed_in_with_otp"] = True
    if with_password and not user.has_signed_in_with_password:
        changes["has_signed_in_with_password"] = True
    if adult and not user.is_at_least_18_confirmed:
        changes["is_at_least_18_confirmed"] = True
    if changes:
        User.objects.filter(pk=user.pk).update(**changes)
        for name, value in changes.items():
            setattr(user, name, value)


def create_user(
    *,
    domain: Domain,
    email: str,
    session: ApiSession | None = None,
    username: str = "",
    password: str | None = None,
    otp: str | None = None,
    is_at_least_18_confirmed: bool = False,
    ref_list: list[str] | None = None,
    referrer: str = "",
    ip_address=None,
    user_agent: str = "",
) -> ApiSession:
    """AIMG createUser: a new user of ``domain``, signed in; returns the new (rotated) session.

    At least one of ``password`` (which must pass AUTH_PASSWORD_VALIDATORS) and ``otp`` (a live code
    of the email) is required. 409 when the email or the username is taken.
    """
    email = (email or "").strip()
    username = (username or "").strip()
    if not password and not otp:
        raise InvalidInput(CREDENTIAL_REQUIRED)
    if username:
        _check_username(username)
    if selectors.user_by_email(email=email, domain=domain) is not None:
        raise Conflict(EMAIL_REGISTERED)
    if username and User.objects.filter(domain=domain, username__iexact=username).exists():
        raise _username_taken(username)
    if password:
        _check_password_rule(password, email=email, username=username or email.split("@")[0])
    # Outside the transaction below: a wrong code's spent try must stay spent.
    if otp and not consume_otp(domain=domain, email=email, code=otp):
        raise NotAuthenticated(CODE_REFUSED)
    with transaction.atomic():
        user = _insert_user(
            domain=domain,
            email=email,
            username=username,
            password=password,
            is_at_least_18_confirmed=bool(is_at_least_18_confirmed),
            ref_list=list(ref_list or []),
            referrer=(referrer or "").strip(),
            has_signed_in_with_otp=bool(otp),
            has_signed_in_with_password=bool(password),
        )
        return sign_in(user=user, session=session, domain=domain, ip_address=ip_address, user_agent=user_agent)


def authenticate_user(
    *,
    domain: Domain,
    email: str,
    session: ApiSession | None = None,
    password: str | None = None,
    otp: str | None = None,
    is_at_least_18_confirmed: bool = False,
    ip_address=None,
    user_agent: str = "",
) -> ApiSession:
    """AIMG authenticateUser: sign in with a password and/or a one-time code; returns the new session.

    Every credential sent must be right (401 otherwise). An unknown email with a right code gets an
    account (with the password, if one was sent, as its password); an unknown email with only a
    password is refused like a wrong password. A blocked account (abuse level 9, deactivated) is
    refused with 403 once its credentials are right.
    """
    email = (email or "").strip()
    if not password and not otp:
        raise InvalidInput(CREDENTIAL_REQUIRED)
    user = selectors.user_by_email(email=email, domain=domain)
    if user is None:
        if not otp:
            User().set_password(password)  # the same work as a real check: no timing oracle
            raise NotAuthenticated(CREDENTIALS_REFUSED)
        if password:
            _check_password_rule(password, email=email, username=email.split("@")[0])
    elif password and not _password_matches(user, password):
        raise NotAuthenticated(CREDENTIALS_REFUSED)
    # Outside the transaction below: a wrong code's spent try must stay spent.
    if otp and not consume_otp(domain=domain, email=email, code=otp):
        raise NotAuthenticated(CODE_REFUSED)
    with transaction.atomic():
        if user is None:
            user = _insert_user(
                domain=domain,
                email=email,
                username="",
                password=password,
                is_at_least_18_confirmed=bool(is_at_least_18_confirmed),
                has_signed_in_with_otp=True,
                has_signed_in_with_password=bool(password),
            )
        else:
            assert_may_sign_in(user)
            _record_sign_in(
                user, with_otp=bool(otp), with_password=bool(password), adult=bool(is_at_least_18_confirmed)
            )
        return sign_in(user=user, session=session, domain=domain, ip_address=ip_address, user_agent=user_agent)


def sign_out(*, session: ApiSession | None) -> bool:
    """Revoke ``session``; False when there was no live session to revoke."""
    if session is None:
        return False
    return bool(ApiSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()))


def remember_age_confirmation(*, session: ApiSession) -> None:
    """Record an 18+ confirmation: on the session's user, or on the guest session itself (it moves
    to the user when the session signs in). A confirmation is never withdrawn here."""
    if session.user_id:
        User.objects.filter(pk=session.user_id, is_at_least_18_confirmed=False).update(is_at_least_18_confirmed=True)
        session.user.is_at_least_18_confirmed = True
    else:
        ApiSession.objects.filter(pk=session.pk, is_at_least_18_confirmed=False).update(is_at_least_18_confirmed=True)
        session.is_at_least_18_confirmed = True


def generate_strong_password(length: int = GENERATED_PASSWORD_LENGTH) -> str:
    """A random password that satisfies the spec's rule: at least 16 characters, with an uppercase
    and a lowercase letter, a digit and a special character (writes nothing)."""
    length = max(length, MIN_GENERATED_PASSWORD_LENGTH)
    classes = (string.ascii_uppercase, string.ascii_lowercase, string.digits, _GENERATED_SPECIALS)
    alphabet = "".join(classes)
    chars = [secrets.choice(chars) for chars in classes]
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)
