"""django-allauth glue for OAuth sign-in: the social-account adapter and the providers' callback routes.

allauth does the OAuth 2.0 work (state, code exchange, profile and email fetches, per provider).
Everything after that belongs to ``apps.accounts.services.oauth``: the adapter hands it every
completed login (``pre_social_login``) and every failure (``on_authentication_error``), each ending
in a redirect to the front end, so allauth's own login, sign-up and error pages are never reached.
Only the callback routes are published (``/accounts/<provider>/login/callback/``); the sign-in
starts at AIMG ``POST /auth/{loginProvider}``.
"""

import logging

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter, get_adapter
from allauth.socialaccount.providers.base import AuthError
from allauth.socialaccount.providers.discord.views import DiscordOAuth2Adapter
from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from allauth.socialaccount.providers.google.views import GoogleOAuth2Adapter
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from allauth.socialaccount.providers.patreon.views import PatreonOAuth2Adapter
from django.http import HttpResponseRedirect
from django.urls import path

from apps.core.dialects.aimg import AIMG
from apps.core.dialects.problems import normalize
from apps.core.errors import InvalidInput

from .services import oauth as oauth_services

logger = logging.getLogger(__name__)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Ends every allauth social login in ``apps.accounts.services.oauth``."""

    def pre_social_login(self, request, sociallogin):
        try:
            url = oauth_services.complete_oauth_login(request=request, sociallogin=sociallogin)
        except InvalidInput as exc:
            raise ImmediateHttpResponse(_problem_response(request, exc)) from exc
        raise ImmediateHttpResponse(HttpResponseRedirect(url))

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        if exception is not None:
            logger.warning("OAuth sign-in with %s failed: %r", provider.id, exception)
        state = (extra_context or {}).get("state")
        try:
            url = oauth_services.failed_oauth_login(
                state=state, provider_id=provider.id, cancelled=error == AuthError.CANCELLED
            )
        except InvalidInput as exc:
            raise ImmediateHttpResponse(_problem_response(request, exc)) from exc
        raise ImmediateHttpResponse(HttpResponseRedirect(url))

    def authenticate_by_email(self, sociallogin):
        """allauth's email match spans every site; the domain-scoped match is the service's."""
        return None


def _problem_response(request, exc):
    """An AIMG error body (JSON) for a callback that has no front end to return to."""
    return AIMG.render_problem(normalize(exc), request)


class PatreonIdentityAdapter(PatreonOAuth2Adapter):
    """Patreon through its API v2 ``identity`` endpoint, asking whether the email is verified.

    allauth's Patreon provider never marks the email as verified (it does not ask), and an
    unverified email cannot sign in (``apps.accounts.services.oauth``).
    """

    profile_url = (
        "https://www.patreon.com/api/oauth2/v2/identity"
        "?fields%5Buser%5D=email,is_email_verified,first_name,last_name,full_name,vanity,image_url,thumb_url,url"
    )

    def complete_login(self, request, app, token, **kwargs):
        headers = {"Authorization": f"Bearer {token.token}"}
        with get_adapter().get_requests_session() as session:
            response = session.get(self.profile_url, headers=headers)
            response.raise_for_status()
            data = response.json().get("data") or {}
        attributes = data.get("attributes") or {}
        data = {**data, "attributes": attributes}
        login = self.get_provider().sociallogin_from_response(request, data)
        email = attributes.get("email")
        if attributes.get("is_email_verified") is True and isinstance(email, str):
            for address in login.email_addresses:
                if address.email.lower() == email.strip().lower():
                    address.verified = True
        if not login.user.username and isinstance(attributes.get("vanity"), str):
            login.user.username = attributes["vanity"]
        return login


class CallbackView(OAuth2CallbackView):
    """allauth's OAuth 2.0 callback; a provider answer it cannot read ends like any other failure."""

    def _get_state(self, request, provider):
        state, response = super()._get_state(request, provider)
        self.state = state
        return state, response

    def dispatch(self, request, *args, **kwargs):
        self.state = None
        try:
            return super().dispatch(request, *args, **kwargs)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            # Raised while reading the provider's answers (a profile without an id, not an object…).
            provider_id = self.adapter.provider_id
            logger.warning(
                "OAuth sign-in with %s: unreadable answer from the provider: %r", provider_id, exc, exc_info=True
            )
            try:
                url = oauth_services.failed_oauth_login(state=self.state, provider_id=provider_id)
            except InvalidInput as invalid:
                return _problem_response(request, invalid)
            return HttpResponseRedirect(url)


CALLBACK_ADAPTERS = {
    "google": GoogleOAuth2Adapter,
    "discord": DiscordOAuth2Adapter,
    "github": GitHubOAuth2Adapter,
    "patreon": PatreonIdentityAdapter,
}

# Included under ``accounts/`` by config/urls.py without a namespace: allauth reverses
# ``<provider>_callback`` to build the redirect_uri it sends to the provider.
urlpatterns = [
    path(f"{provider_id}/login/callback/", CallbackView.adapter_view(adapter), name=f"{provider_id}_callback")
    for provider_id, adapter in CALLBACK_ADAPTERS.items()
]


def login_providers(user) -> list[dict]:
    """The AIMG LoginProvider objects (``providerType`` ``oauth``) of the accounts linked to ``user``."""
    from allauth.socialaccount.models import SocialAccount

    prefix = f"{user.domain_id}:"
    providers = []
    for account in SocialAccount.objects.filter(user=user).order_by("date_joined"):
        name = oauth_services.LOGIN_PROVIDERS.get(account.provider)
        if name and account.uid.startswith(prefix):
            providers.append({"providerType": "oauth", "providerId": name, "userId": account.uid[len(prefix) :]})
    return providers
