from django.apps import AppConfig


class Text2ImageConfig(AppConfig):
    name = "apps.text2image"
    label = "text2image"
    verbose_name = "Generation"
