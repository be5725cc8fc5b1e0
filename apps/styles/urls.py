"""Routes of the styles app: the Sartiq ``/api/v1/styles/`` endpoints."""

from apps.core.sartiq.viewsets import SartiqRouter

from .api.sartiq import StyleViewSet

app_name = "styles"

router = SartiqRouter()
router.register("api/v1/styles", StyleViewSet, basename="style")

urlpatterns = router.urls
