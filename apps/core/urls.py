"""Routes of the core app: the AIMG "Technical" endpoints, Sartiq uploads and media files."""

from django.urls import path

from .api import aimg, sartiq
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
    path("api/v1/uploads/", sartiq.UploadsView.as_view(), name="sartiq-uploads"),
    path("api/v1/uploads/<uuid:pk>", sartiq.UploadDetailView.as_view(), name="sartiq-upload"),
    path("api/v1/uploads/<uuid:pk>/content", sartiq.UploadContentView.as_view(), name="sartiq-upload-content"),
    path("api/v1/media/<uuid:pk>/<str:filename>", sartiq.MediaFileView.as_view(), name="sartiq-media"),
]
