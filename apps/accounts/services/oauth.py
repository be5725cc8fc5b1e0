"""Sign-in through external OAuth 2.0 providers (AIMG ``POST /auth/{loginProvider}``), on django-allauth.

1. ``start_oauth_login`` checks the front end's ``redirectURL`` and stashes the pending login in
   allauth's OAuth state: it lives in the browser's Django session, is bound to the ``state``
   parameter sent to the provider, is consumed on first use and expires after 10 minutes. It
   returns the provider's authorization URL.
2. The provider sends the browser back to allauth's callback, which exchanges the code for a token
   and fetches the profile; ``apps.accounts.oauth.SocialAccountAdapter`` then hands every outcome
   here, so allauth's own login, sign-up and error pages never run.
3. ``complete_oauth_login`` finds or creates the user of the request's domain, opens an API session
   and returns the front-end URL carrying ``b``: the AIMG body ``{"hasError", "errorMessage",
   "payload": SelfUser}`` as unpadded Base64URL JSON. ``failed_oauth_login`` returns the same URL
   with an error body.

Users are unique per (domain, email), while allauth's ``SocialAccount`` is unique per (provider,
uid) across the installation, so the link of a provider account to a user is stored with the uid
scoped to the domain (``scoped_uid``); the same provider account can then sign in on two sites and
is linked to a different user on each.
"""

import base64
import json
import logging
from dataclasses import asdict, dataclass, field
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialAccount, SocialApp
from allauth.socialaccount.providers.base import AuthProcess
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction

from apps.core.dialects.aimg import AIMG, body
from apps.core.dialects.problems import normalize
from apps.core.errors import AtelierError, InvalidInput, NotFound, PermissionDenied, ServiceUnavailable
from apps.core.ratelimit import UNKNOWN_CLIENT, client_ip

from .. import selectors
from ..api.serializers import self_user
from ..models import ApiSession, User
from .signin import assert_may_sign_in, sign_in

__all__ = ["complete_oauth_login", "failed_oauth_login", "oauth_provider", "start_oauth_login"]

logger = logging.getLogger(__name__)

# allauth's provider id (the ``{loginProvider}`` of the path) -> the annex's LoginProvider ``providerId``.
LOGIN_PROVIDERS = {"google": "Google", "discord": "Discord", "github": "GitHub", "patreon": "Patreon"}
# The query parameter that carries the response to the front end.
RESPONSE_PARAMETER = "b"
MAX_REDIRECT_URL_LENGTH = 2048


@dataclass(frozen=True)
class PendingLogin:
    """What ``POST /auth/{loginProvider}`` was asked, kept until the provider sends the browser back."""

    redirect_url: str
    domain_id: str
    session_id: str | None = None
    ref_list: list = field(default_factory=list)
    referrer: str = ""
    is_at_least_18_confirmed: bool = False

    def as_state(self) -> dict:
        return {"aimg": asdict(self)}

    @classmethod
    def from_state(cls, state) -> "PendingLogin | None":
        """The pending login stashed by ``start_oauth_login`` in allauth's state, or None."""
        data = state.get("data") if isinstance(state, dict) else None
        pending = data.get("aimg") if isinstance(data, dict) else None
        if not isinstance(pending, dict):
            return None
        try:
            return cls(**pending)
        except TypeError:
            return None


# --- Start -----------------------------------------------------------------------------------------
def oauth_provider(request, provider_id: str):
    """The allauth provider behind ``{loginProvider}``; NotFound when unknown or not configured."""
    provider_id = (provider_id or "").strip().lower()
    name = LOGIN_PROVIDERS.get(provider_id)
    if name is None:
        raise NotFound(f"Unknown login provider. Supported values: {', '.join(LOGIN_PROVIDERS)}.")
    try:
        provider = get_adapter(request).get_provider(request, provider_id)
    except SocialApp.DoesNotExist:
        provider = None
    if provider is None or not provider.app.client_id or not provider.app.secret:
        raise NotFound(f"Sign-in with {name} is not available.")
    return provider


def start_oauth_login(
    *,
    request,
    provider,
    redirect_url: str,
    ref_list=(),
    referrer: str = "",
    is_at_least_18_confirmed: bool = False,
    session: ApiSession | None = None,
) -> str:
    """Stash the pending login and return the provider's authorization URL to redirect to.

    ``redirect_url`` must point at one of the domain's front-end origins (no open redirect).
    ``session`` is the caller's API session, if any: it is rotated when the sign-in succeeds.
    """
    domain = request.domain
    if len(redirect_url) > MAX_REDIRECT_URL_LENGTH or not domain.allows_origin(redirect_url):
        raise InvalidInput(
            errors={("redirectURL",): ["It must be an http(s) URL on one of this site's front-end origins."]}
        )
    pending = PendingLogin(
        redirect_url=redirect_url,
        domain_id=str(domain.pk),
        session_id=str(session.pk) if session is not None else None,
        ref_list=list(ref_list),
        referrer=referrer or "",
        is_at_least_18_confirmed=bool(is_at_least_18_confirmed),
    )
    response = provider.redirect(request, AuthProcess.LOGIN, data=pending.as_state())
    location = response.get("Location") if response.status_code == 302 else None
    if not location:
        raise ServiceUnavailable(f"Sign-in with {provider.name} cannot start now. Try again later.")
    return location


# --- Callback --------------------------------------------------------------------------------------
def complete_oauth_login(*, request, sociallogin) -> str:
    """The front-end URL to send the browser to once the provider has identified the person.

    On success the URL's ``b`` holds the SelfUser of a new API session (the pending one, if any, is
    revoked); on refusal it holds an AIMG error body. InvalidInput when the login was not started
    by ``start_oauth_login``: there is then no front end to return to.
    """
    pending = PendingLogin.from_state(sociallogin.state)
    if pending is None:
        raise InvalidInput("This sign-in was not started by POST /auth/{loginProvider}.")
    try:
        session = _sign_in(request=request, pending=pending, sociallogin=sociallogin)
    except AtelierError as exc:
        logger.info("OAuth sign-in with %s refused: %s", sociallogin.account.provider, exc.message)
        return front_end_url(pending.redirect_url, _error_body(exc))
    return front_end_url(pending.redirect_url, body(self_user(session)))


def failed_oauth_login(*, state, provider_id: str, cancelled: bool = False) -> str:
    """The front-end URL that reports a sign-in the provider did not complete (refused, cancelled,
    unreadable answer). InvalidInput when the state holds no pending login (expired or used)."""
    pending = PendingLogin.from_state(state)
    if pending is None:
        raise InvalidInput("This sign-in has expired or was already used. Start it again.")
    name = LOGIN_PROVIDERS.get(provider_id, provider_id)
    if cancelled:
        message = f"The sign-in with {name} was cancelled."
    else:
        message = f"The sign-in with {name} did not succeed. Try again."
    return front_end_url(pending.redirect_url, _error_body(AtelierError(message)))


@transaction.atomic
def _sign_in(*, request, pending: PendingLogin, sociallogin) -> ApiSession:
    domain = request.domain
    if str(domain.pk) != pending.domain_id:
        raise PermissionDenied("This sign-in was started on another site.")
    user = _user_for(domain=domain, pending=pending, sociallogin=sociallogin)
    session = None
    if pending.session_id:
        session = selectors.active_session(session_id=pending.session_id, domain=domain)
    return sign_in(user=user, session=session, domain=domain, ip_address=_ip(request), user_agent=_agent(request))


def _user_for(*, domain, pending: PendingLogin, sociallogin) -> User:
    """The user of ``domain`` this provider account signs in as, created if needed, and linked.

    The account's earlier link on this domain wins; otherwise a live user with one of the
    provider's *verified* emails; otherwise a new user with the first verified email. An email the
    provider has not verified is never used: it could take over (or squat) someone else's account.
    """
    provider_id = sociallogin.account.provider
    name = LOGIN_PROVIDERS.get(provider_id, provider_id)
    uid = scoped_uid(domain, sociallogin.account.uid)
    link = SocialAccount.objects.select_related("user").filter(provider=provider_id, uid=uid).first()
    user = link.user if link is not None else None
    if user is not None and (user.is_deleted or user.domain_id != domain.pk):
        user = None

    if user is None:
        addresses = [address for address in sociallogin.email_addresses if address.email]
        if not addresses:
            raise InvalidInput(
                f"{name} did not share the email address of your account. Allow access to it and try again."
            )
        verified = [address.email for address in addresses if address.verified]
        if not verified:
            raise PermissionDenied(
                f"The email address of your {name} account is not verified. Verify it with {name}, then try again."
            )
        user = next(
            (found for email in verified if (found := selectors.user_by_email(email=email, domain=domain))), None
        )
        if user is None:
            user = _create_user(
                domain=domain, email=verified[0], username=sociallogin.user.username or "", pending=pending
            )

    assert_may_sign_in(user)
    if pending.is_at_least_18_confirmed and not user.is_at_least_18_confirmed:
        User.objects.filter(pk=user.pk).update(is_at_least_18_confirmed=True)
        user.is_at_least_18_confirmed = True
    SocialAccount.objects.update_or_create(
        provider=provider_id, uid=uid, defaults={"user": user, "extra_data": sociallogin.account.extra_data}
    )
    return user


def _create_user(*, domain, email: str, username: str, pending: PendingLogin) -> User:
    """A new user of ``domain``; the user created meanwhile by a concurrent sign-in, if there is one."""
    for _attempt in range(3):
        wanted = User.objects.free_username(username, domain) if username.strip() else ""
        extra = {"username": wanted} if wanted else {}
        try:
            with transaction.atomic():
                return User.objects.create_user(
                    email=email,
                    domain=domain,
                    ref_list=pending.ref_list,
                    referrer=pending.referrer,
                    is_at_least_18_confirmed=pending.is_at_least_18_confirmed,
                    **extra,
                )
        except IntegrityError:
            existing = selectors.user_by_email(email=email, domain=domain)
            if existing is not None:
                return existing
            # The username was taken meanwhile: pick another one.
    raise ServiceUnavailable("The account could not be created. Try again.")


def scoped_uid(domain, uid: str) -> str:
    """The ``SocialAccount.uid`` that links provider account ``uid`` to a user of ``domain``."""
    scoped = f"{domain.pk}:{uid}"
    if len(scoped) > SocialAccount._meta.get_field("uid").max_length:
        raise InvalidInput("The login provider returned an account identifier that is too long.")
    return scoped


# --- The answer to the front end --------------------------------------------------------------------
def front_end_url(redirect_url: str, response_body: dict) -> str:
    """``redirect_url`` with ``b`` = unpadded Base64URL of the JSON body; its own query and fragment
    are kept (a ``b`` of its own is replaced)."""
    encoded = base64.urlsafe_b64encode(
        json.dumps(response_body, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
    ).rstrip(b"=")
    parts = urlsplit(redirect_url)
    query = [
        piece
        for piece in parts.query.split("&")
        if piece and unquote_plus(piece.partition("=")[0]) != RESPONSE_PARAMETER
    ]
    query.append(f"{RESPONSE_PARAMETER}={encoded.decode()}")
    return urlunsplit(parts._replace(query="&".join(query)))


def _error_body(exc: AtelierError) -> dict:
    return AIMG.error_body(normalize(exc), None)


def _ip(request) -> str | None:
    address = client_ip(request)
    return None if address == UNKNOWN_CLIENT else address


def _agent(request) -> str:
    return request.headers.get("User-Agent", "")
