"""Routes of the subjects app: the Sartiq ``/api/v1/subjects/`` endpoints."""

from apps.core.sartiq.viewsets import SartiqRouter

from .api.sartiq import SubjectViewSet

app_name = "subjects"

router = SartiqRouter()
router.register("api/v1/subjects", SubjectViewSet, basename="subject")

urlpatterns = router.urls
