"""The embedded default: SQLite, local files, local-memory cache, file-system broker."""

from .base import *  # noqa: F403
from .base import env

# Off by default so that API errors take their dialect's format, as in production; set DEBUG=true
# for Django's debug pages. Static files are served by WhiteNoise either way.
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])
# Serve static files straight from the apps' folders: no collectstatic needed in embedded mode.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
