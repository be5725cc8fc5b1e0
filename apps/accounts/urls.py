from django.urls import path

from .api.sartiq import LoginAccessTokenView

app_name = "accounts"

urlpatterns = [
    path("api/v1/login/access-token", LoginAccessTokenView.as_view(), name="login-access-token"),
]
