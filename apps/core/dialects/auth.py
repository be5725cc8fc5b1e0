"""Authentication classes the dialects use. Credentials are looked up through accounts selectors."""

import re
import uuid
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, BasicAuthentication, get_authorization_header

SESSION_HEADER = "X-Session-ID"
ADMIN_KEY_HEADER = "X-Administration-Key"

# Issued secrets are printable ASCII without spaces; anything else (a NUL byte, which PostgreSQL
# refuses in a query, included) is rejected before any lookup.
_SECRET = re.compile(r"^[\x21-\x7e]{1,512}$")


def plausible_secret(value: str) -> bool:
    return bool(_SECRET.match(value))


@dataclass
class AimgCredentials:
    """What an AIMG request carried: its API session (guest or signed in) and/or an admin key."""

    session: object | None = None
    admin_key: object | None = None


class AimgAuthentication(BaseAuthentication):
    """``X-Session-ID`` (a UUID naming a server-made session) and ``X-Administration-Key``.

    An admin key authenticates as its staff owner; otherwise the session's user (or a guest).
    A malformed session id is a credential that fails (401, like a wrong admin key); an unknown or
    revoked one is simply no session.
    """

    def authenticate(self, request):
        from apps.accounts import selectors

        raw_session = request.headers.get(SESSION_HEADER)
        raw_key = request.headers.get(ADMIN_KEY_HEADER)
        session = None
        if raw_session:
            try:
                session_id = uuid.UUID(raw_session.strip())
            except ValueError as exc:
                raise exceptions.AuthenticationFailed(f"The {SESSION_HEADER} header must be a valid UUID.") from exc
            session = selectors.active_session(session_id=session_id, domain=request.domain)
        admin_key = None
        if raw_key:
            raw_key = raw_key.strip()
            admin_key = selectors.admin_key_from_secret(raw_key) if plausible_secret(raw_key) else None
            if admin_key is None:
                raise exceptions.AuthenticationFailed("The administration key is not valid.")
        request._request.api_session = session
        if admin_key is not None:
            return admin_key.user, AimgCredentials(session=session, admin_key=admin_key)
        if session is not None:
            user = session.user if session.user_id else AnonymousUser()
            return user, AimgCredentials(session=session)
        return None

    def authenticate_header(self, request):
        return f'Session header="{SESSION_HEADER}"'


class BearerTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>`` for an AccessToken of the request's domain."""

    keyword = "bearer"

    def authenticate(self, request):
        from apps.accounts import selectors

        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid bearer header: it must be 'Bearer <token>'.")
        try:
            secret = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid bearer token.") from exc
        token = selectors.access_token_from_secret(secret, domain=request.domain) if plausible_secret(secret) else None
        if token is None:
            raise exceptions.AuthenticationFailed("Could not validate credentials.")
        return token.user, token

    def authenticate_header(self, request):
        return "Bearer"


class DomainBasicAuthentication(BasicAuthentication):
    """HTTP Basic with the email or username of a user of the request's domain."""

    www_authenticate_realm = "atelier"

    def authenticate_credentials(self, userid, password, request=None):
        from django.contrib.auth import authenticate

        if "\x00" in userid:  # no account has one, and PostgreSQL refuses it in a query
            raise exceptions.AuthenticationFailed("Invalid username or password.")
        user = authenticate(request=request, username=userid, password=password)
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("Invalid username or password.")
        return user, None
