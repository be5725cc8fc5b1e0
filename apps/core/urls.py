"""Routes of the core app: the AIMG "Technical" endpoints."""

from django.urls import path

from .api import aimg
from .api import files as file_server

app_name = "core"

urlpatterns = [
    path("ingestLogs", aimg.IngestLogsView.as_view(), name="ingest-logs"),
    path("getAffiliateAd", aimg.AffiliateAdView.as_view(), name="affiliate-ad"),
    path("pgQuery", aimg.PgQueryView.as_view(), name="pg-query"),
    path("uploadFile", file_server.UploadFileView.as_view(), name="upload-file"),
    path("getFile", file_server.GetFileView.as_view(), name="get-file"),
    path("getFileMetadata", file_server.GetFileMetadataView.as_view(), name="get-file-metadata"),
    path("removeFile", file_server.RemoveFileView.as_view(), name="remove-file"),
]
