"""Routes of the Neuroflash workspace images (``/api/image-service/v1/workspaces/{workspaceId}/images``)."""

from rest_framework.routers import SimpleRouter

from .api.neuroflash import WorkspaceImageViewSet

router = SimpleRouter(trailing_slash=False)
router.register(
    r"api/image-service/v1/workspaces/(?P<workspaceId>[^/]+)/images",
    WorkspaceImageViewSet,
    basename="neuroflash-workspace-image",
)

urlpatterns = router.urls
