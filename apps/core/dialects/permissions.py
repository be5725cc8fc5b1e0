"""Permission classes of the dialects.

A request that is not signed in (no credentials, or only a guest session) is refused with 401
("You are not signed in"), a signed-in user without the permission with 403. DRF alone would answer
403 to a guest session, because the session authenticated the request although it names no user:
these classes mark such a refusal with ``NOT_SIGNED_IN_CODE``, which ``DialectMixin`` turns into a
401. They never raise, so they compose with ``|``, ``&`` and ``~``.
"""

from rest_framework.permissions import BasePermission

NOT_SIGNED_IN = "You are not signed in."
NOT_SIGNED_IN_CODE = "not_authenticated"
FORBIDDEN = "You are not allowed to access the requested resource."


def _signed_in(request) -> bool:
    user = request.user
    return bool(user and user.is_authenticated)


class IsSignedIn(BasePermission):
    """A signed-in user (not a guest session)."""

    message = NOT_SIGNED_IN
    code = NOT_SIGNED_IN_CODE
    requires_sign_in = True  # read by the OpenAPI schema (apps.core.schema)

    def has_permission(self, request, view):
        return _signed_in(request)


def has_perm(*perms: str) -> type[BasePermission]:
    """A permission class that requires every Django permission in ``perms`` (roles grant them)."""

    class HasPerm(BasePermission):
        message = FORBIDDEN
        code = None
        requires_sign_in = True

        def has_permission(self, request, view):
            if not _signed_in(request):
                # An instance serves one request, so the refusal's kind can be kept on it.
                self.message, self.code = NOT_SIGNED_IN, NOT_SIGNED_IN_CODE
                return False
            return bool(request.user.is_active and request.user.has_perms(perms))

    HasPerm.__name__ = f"HasPerm({', '.join(perms)})"
    return HasPerm


class HasApiSession(BasePermission):
    """AIMG: any caller its credentials name, a guest or signed-in ``X-Session-ID`` or an
    administration key (a guest session counts, so the schema lists no anonymous access)."""

    message = NOT_SIGNED_IN
    code = NOT_SIGNED_IN_CODE
    requires_sign_in = True  # for the OpenAPI schema: a credential is needed

    def has_permission(self, request, view):
        return request.auth is not None or _signed_in(request)


def api_session(request):
    """The AIMG API session of the request (guest or signed in), or None."""
    return getattr(request.auth, "session", None)
