"""Routes of the core app: the AIMG "Technical" endpoints."""

from django.urls import path

from .api import aimg

app_name = "core"

urlpatterns = [
    path("ingestLogs", aimg.IngestLogsView.as_view(), name="ingest-logs"),
    path("getAffiliateAd", aimg.AffiliateAdView.as_view(), name="affiliate-ad"),
    path("pgQuery", aimg.PgQueryView.as_view(), name="pg-query"),
]
