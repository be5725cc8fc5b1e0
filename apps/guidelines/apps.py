from django.apps import AppConfig


class GuidelinesConfig(AppConfig):
    name = "apps.guidelines"
    label = "guidelines"
    verbose_name = "Guidelines, shot types and presets"

    def ready(self):
        from apps.core.services import retention

        from . import services
        from .models import BackgroundPreset, PosePreset, ResolutionPreset, SetDesign, ShootingGuidelines, ShotType

        retention.register(ShotType, cleanup=services.release_shot_type_media)
        retention.register(BackgroundPreset, cleanup=services.release_background_preset_media)
        retention.register(ResolutionPreset)
        retention.register(PosePreset, cleanup=services.release_pose_preset_media)
        retention.register(SetDesign, cleanup=services.release_set_design_media)
        retention.register(ShootingGuidelines)
