from django.contrib.auth.backends import ModelBackend
from django.db.models import Q

from apps.core.domains import default_domain, domain_for_request


class DomainEmailBackend(ModelBackend):
    """Password sign-in with an email (or username) of a user of the request's domain.

    The same email may exist once per domain, so a lookup is always scoped: to the request's
    domain, or to the default domain when there is no request (shell, management commands).
    """

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        from .models import User

        login = (email or username or "").strip()
        if not login or password is None:
            return None
        domain = getattr(request, "domain", None) if request is not None else None
        if domain is None:
            domain = domain_for_request(request) if request is not None else default_domain()
        match = Q(email__iexact=login) if "@" in login else Q(username__iexact=login)
        user = User.objects.filter(match, domain=domain).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
