"""Settings of a Celery worker process that a test starts: the test settings, pointed at the test's
own database, a real broker, and a file-system storage the test can read."""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES

DATABASES["default"]["NAME"] = os.environ["ATELIER_WORKER_DB_NAME"]
CELERY_BROKER_URL = os.environ["ATELIER_WORKER_BROKER_URL"]
CELERY_RESULT_BACKEND = "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": float(os.environ.get("ATELIER_WORKER_VISIBILITY", "3600"))}
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": os.environ["ATELIER_WORKER_MEDIA"]},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
GENERATION_JOB_LEASE_SECONDS = float(os.environ.get("ATELIER_WORKER_LEASE", "60"))
GENERATION_WORKER_AUTO_QUEUES = False
