from django.urls import include, path

from .api.sartiq import LoginAccessTokenView

app_name = "accounts"

urlpatterns = [
    path("api/v1/login/access-token", LoginAccessTokenView.as_view(), name="login-access-token"),
    # AIMG user management (each module lists its own RPC paths).
    path("", include("apps.accounts.api.aimg.signin")),
    path("", include("apps.accounts.api.aimg.profile")),
    path("", include("apps.accounts.api.aimg.oauth")),
]
