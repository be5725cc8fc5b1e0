from rest_framework.permissions import BasePermission


class IsSignedIn(BasePermission):
    """A signed-in user (not a guest session)."""

    message = "You are not signed in."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)


def has_perm(*perms: str) -> type[BasePermission]:
    """A permission class that requires every Django permission in ``perms`` (roles grant them)."""

    class HasPerm(BasePermission):
        message = "You are not allowed to access the requested resource."

        def has_permission(self, request, view):
            user = request.user
            return bool(user and user.is_authenticated and user.is_active and user.has_perms(perms))

    HasPerm.__name__ = f"HasPerm({', '.join(perms)})"
    return HasPerm
