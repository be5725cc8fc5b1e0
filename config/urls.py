from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.core.views import HealthView

admin.site.site_header = settings.ADMIN_SITE_HEADER
admin.site.site_title = settings.ADMIN_SITE_HEADER
admin.site.index_title = "Operations"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", HealthView.as_view(), name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    # OAuth providers send the browser back here (django-allauth callbacks, no namespace).
    path("accounts/", include("apps.accounts.oauth")),
    path("", include("apps.core.urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.guidelines.urls")),
    path("", include("apps.styles.urls")),
    path("", include("apps.billing.urls")),
    path("", include("apps.items.urls_neuroflash")),
    path("", include("apps.items.urls")),
    path("", include("apps.items.urls_writes")),
    path("", include("apps.folders.urls")),
    path("", include("apps.tags.urls")),
    path("", include("apps.reports.urls")),
    path("", include("apps.subjects.urls")),
    path("", include("apps.text2image.urls")),
]

handler400 = "apps.core.dialects.errors.bad_request"
handler403 = "apps.core.dialects.errors.permission_denied"
handler404 = "apps.core.dialects.errors.page_not_found"
handler500 = "apps.core.dialects.errors.server_error"
