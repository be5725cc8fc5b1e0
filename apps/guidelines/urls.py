"""Routes of the guidelines app (Sartiq)."""

from apps.core.sartiq.viewsets import SartiqRouter

from .api import sartiq

app_name = "guidelines"

router = SartiqRouter()
router.register("api/v1/shot-types", sartiq.ShotTypeViewSet, basename="shot-type")
router.register("api/v1/background-presets", sartiq.BackgroundPresetViewSet, basename="background-preset")
router.register("api/v1/resolution-presets", sartiq.ResolutionPresetViewSet, basename="resolution-preset")
router.register("api/v1/guidelines", sartiq.ShootingGuidelinesViewSet, basename="shooting-guidelines")

urlpatterns = router.urls
