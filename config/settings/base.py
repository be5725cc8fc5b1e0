"""Settings shared by every environment.

Every value comes from the environment with a documented default (README, "Configuration").
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("ATELIER_VAR_DIR", default=str(BASE_DIR / "var")))

VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

SECRET_KEY = env.str("SECRET_KEY", default="insecure-local-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.discord",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.patreon",
    "apps.core",
    "apps.accounts",
    "apps.guidelines",
    "apps.styles",
    "apps.billing",
    "apps.items",
    "apps.folders",
    "apps.tags",
    "apps.reports",
    "apps.subjects",
    "apps.text2image",
]

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.DomainMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Largest JSON or form body (file uploads are capped per endpoint instead); larger ones answer 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)

# --- Database -----------------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "atelier.sqlite3"


def database_from_url(url: str) -> dict:
    """One database alias from a URL; SQLite gets WAL and immediate transactions so that the
    web server, the worker and beat can share the embedded file."""
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    else:
        config.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": database_from_url(env.str("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Identity -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["apps.accounts.backends.DomainEmailBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    # The AIMG rule: at least 8 characters with an upper, a lower, a digit and a special character.
    {"NAME": "apps.accounts.validators.SpecPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
SILENCED_SYSTEM_CHECKS = [
    # The email is unique per domain, not globally; DomainEmailBackend scopes every lookup.
    "auth.W004",
]
ACCESS_TOKEN_TTL = timedelta(seconds=env.int("ACCESS_TOKEN_TTL_SECONDS", default=8 * 24 * 3600))
API_SESSION_TTL = timedelta(seconds=env.int("API_SESSION_TTL_SECONDS", default=90 * 24 * 3600))

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# One-time passwords (AIMG requestOTP / authenticateUser).
OTP_TTL = timedelta(seconds=env.int("OTP_TTL_SECONDS", default=24 * 3600))
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=5)
OTP_RESEND_COOLDOWN = timedelta(seconds=env.int("OTP_RESEND_COOLDOWN_SECONDS", default=60))

# OAuth sign-in through django-allauth (POST /auth/{provider}). Client ids and secrets come from
# the environment; a provider without both is not offered (POST /auth/{provider} answers 404).
SOCIALACCOUNT_PROVIDERS = {
    name: {
        "APPS": (
            [
                {
                    "client_id": env.str(f"OAUTH_{name.upper()}_CLIENT_ID", default=""),
                    "secret": env.str(f"OAUTH_{name.upper()}_SECRET", default=""),
                }
            ]
            if env.str(f"OAUTH_{name.upper()}_CLIENT_ID", default="")
            else []
        ),
        "SCOPE": scope,
        "VERIFIED_EMAIL": False,
    }
    for name, scope in {
        "google": ["profile", "email"],
        "discord": ["identify", "email"],
        "github": ["read:user", "user:email"],
        "patreon": ["identity", "identity[email]"],
    }.items()
}
# Patreon's identity endpoint is API v2, whose scopes are those above.
SOCIALACCOUNT_PROVIDERS["patreon"]["VERSION"] = "v2"
# Every social login ends in apps.accounts.services.oauth (users per domain, API sessions, the
# redirect back to the front end); allauth's own login, sign-up and error pages are never shown.
SOCIALACCOUNT_ADAPTER = "apps.accounts.oauth.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_REQUIRED = True
SOCIALACCOUNT_QUERY_EMAIL = True
SOCIALACCOUNT_STORE_TOKENS = False
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = "none"

# --- Static and media ---------------------------------------------------------------------------
STATIC_URL = env.str("STATIC_URL", default="/static/")
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=False)
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))


def build_storages(environment: environ.Env) -> dict:
    """Django STORAGES from the environment: the local file system, or any S3-compatible store."""
    backend = environment.str("STORAGE_BACKEND", default="local").strip().lower()
    if backend == "s3":
        options = {
            "bucket_name": environment.str("S3_BUCKET"),
            "endpoint_url": environment.str("S3_ENDPOINT_URL", default=None),
            "region_name": environment.str("S3_REGION", default=None),
            "access_key": environment.str("S3_ACCESS_KEY_ID", default=None),
            "secret_key": environment.str("S3_SECRET_ACCESS_KEY", default=None),
            "location": environment.str("S3_LOCATION", default=""),
            "custom_domain": environment.str("S3_CUSTOM_DOMAIN", default=None),
            "querystring_auth": environment.bool("S3_QUERYSTRING_AUTH", default=True),
            "querystring_expire": environment.int("S3_QUERYSTRING_EXPIRE", default=3600),
            "addressing_style": environment.str("S3_ADDRESSING_STYLE", default="path"),
            "file_overwrite": False,
            "default_acl": None,
        }
        default = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
    elif backend == "local":
        default = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    else:
        raise environ.ImproperlyConfigured(f"STORAGE_BACKEND must be 'local' or 's3', not {backend!r}")
    return {
        "default": default,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    }


STORAGES = build_storages(env)

# --- Cache and rate limits ----------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="atelier"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "atelier"}}
RATELIMIT_USE_CACHE = "default"
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
# Reverse proxies in front of Atelier that append to X-Forwarded-For (0: clients connect directly).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_IP_META_KEY = "apps.core.ratelimit.client_ip"

# --- Celery ---------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
# How long a request waits for a broker that is down or hangs before it answers 503 (the endpoints
# that schedule work; docs/operations.md, "Failure drills"): connecting gives up after
# CELERY_BROKER_CONNECTION_TIMEOUT seconds in all, a publish that fails is tried once more
# (CELERY_BROKER_PUBLISH_MAX_RETRIES: a pooled connection the broker dropped is replaced), and a
# Redis broker that accepts the connection but does not answer times out after
# CELERY_BROKER_SOCKET_TIMEOUT seconds per command. Celery's own defaults can hold a request for
# minutes against a silent Redis.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=3.0)
BROKER_SOCKET_TIMEOUT = env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=3.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": env.int("CELERY_BROKER_PUBLISH_MAX_RETRIES", default=1),
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}


def broker_transport_options(url: str) -> dict:
    """CELERY_BROKER_TRANSPORT_OPTIONS for the broker at ``url``."""
    if url.startswith("filesystem://"):
        queue_dir = VAR_DIR / "celery" / "queue"
        return {
            "data_folder_in": str(queue_dir),
            "data_folder_out": str(queue_dir),
            "processed_folder": str(VAR_DIR / "celery" / "processed"),
            "store_processed": False,
            "control_folder": str(VAR_DIR / "celery" / "control"),
            "polling_interval": 0.1,
        }
    if url.startswith(("redis://", "rediss://", "redis+socket://", "sentinel://")):
        # Above the 1 s of the workers' blocking reads (BRPOP), so only a silent Redis trips it.
        return {
            "socket_timeout": BROKER_SOCKET_TIMEOUT,
            "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
        }
    return {}


CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(CELERY_BROKER_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="django-db")
CELERY_RESULT_EXTENDED = True
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "accounts-purge-expired-credentials": {
        "task": "apps.accounts.tasks.purge_expired_credentials",
        "schedule": timedelta(hours=1),
    },
    "billing-expire-subscriptions": {
        "task": "apps.billing.tasks.expire_subscriptions",
        "schedule": timedelta(minutes=5),
    },
    "billing-renew-subscriptions": {
        "task": "apps.billing.tasks.renew_subscriptions",
        "schedule": timedelta(minutes=15),
    },
    "billing-purge-expired-boosty-cookies": {
        "task": "apps.billing.tasks.purge_expired_boosty_cookies",
        "schedule": timedelta(hours=1),
    },
    "accounts-purge-stale-otps": {
        "task": "apps.accounts.tasks.purge_stale_otps",
        "schedule": timedelta(hours=1),
    },
    "core-clear-expired-browser-sessions": {
        "task": "apps.core.tasks.clear_expired_browser_sessions",
        "schedule": timedelta(days=1),
    },
    "core-purge-deleted": {
        "task": "apps.core.tasks.purge_deleted",
        "schedule": timedelta(days=1),
    },
    "core-purge-stale-uploads": {
        "task": "apps.core.tasks.purge_stale_uploads",
        "schedule": timedelta(hours=1),
    },
    "text2image-cleanup-ocs-tasks": {
        "task": "apps.text2image.tasks.cleanup_ocs_tasks",
        "schedule": timedelta(hours=1),
    },
    "text2image-reap-generation-jobs": {
        "task": "apps.text2image.tasks.reap_generation_jobs",
        "schedule": timedelta(minutes=1),
    },
    "reports-decline-vanished-reports": {
        "task": "apps.reports.tasks.decline_vanished_reports",
        "schedule": timedelta(minutes=15),
    },
}
# Soft-deleted rows (and their files) are deleted for good after this many days (0: never).
SOFT_DELETE_RETENTION_DAYS = env.int("SOFT_DELETE_RETENTION_DAYS", default=30)

# --- Billing --------------------------------------------------------------------------------------
# Which card processor serves each card merchant processor of processCardSubscription: "sandbox"
# (built in: no money moves, fixed test cards decide the outcome) or the dotted path of an
# apps.billing.processors.PaymentProcessor subclass. Production must configure a real processor.
BILLING_CARD_PROCESSORS = {"arkpay": env.str("BILLING_ARKPAY_PROCESSOR", default="sandbox")}
# Keyword arguments for the processor's constructor (JSON object: API keys, endpoints).
BILLING_CARD_PROCESSOR_OPTIONS = env.json("BILLING_CARD_PROCESSOR_OPTIONS", default={})
# Fernet keys that encrypt billing secrets at rest (the Boosty admin cookies), comma-separated: the
# first encrypts, all decrypt. Empty: a key derived from SECRET_KEY.
BILLING_ENCRYPTION_KEYS = env.list("BILLING_ENCRYPTION_KEYS", default=[])

# --- Health ---------------------------------------------------------------------------------------
HEALTH_WORKER_TIMEOUT = env.float("HEALTH_WORKER_TIMEOUT", default=5.0)
HEALTH_REQUIRE_WORKER = env.bool("HEALTH_REQUIRE_WORKER", default=False)
HEALTH_WORKER_CACHE_SECONDS = env.int("HEALTH_WORKER_CACHE_SECONDS", default=10)

# --- Outbound fetches of user-supplied URLs (apps.core.net) ---------------------------------------
# Networks (CIDR) treated as public although they are private, e.g. an internal legacy file server.
SAFE_FETCH_ALLOWED_NETWORKS = env.list("SAFE_FETCH_ALLOWED_NETWORKS", default=[])
# Ports allowed besides 80 and 443.
SAFE_FETCH_EXTRA_PORTS = env.list("SAFE_FETCH_EXTRA_PORTS", cast=int, default=[])
# Largest side a resized image variant may ask for.
MEDIA_MAX_RESIZE_DIMENSION = env.int("MEDIA_MAX_RESIZE_DIMENSION", default=4096)

# --- Sartiq media and uploads (apps.core.sartiq) ----------------------------------------------------
# The origin (and optional path prefix) media and upload URLs are given under, e.g.
# "https://api.example.com"; empty: site-relative URLs ("/api/v1/media/...").
SARTIQ_PUBLIC_BASE_URL = env.str("SARTIQ_PUBLIC_BASE_URL", default="")
# How long a presigned upload target (POST /api/v1/uploads/) accepts bytes.
SARTIQ_UPLOAD_EXPIRY_SECONDS = env.int("SARTIQ_UPLOAD_EXPIRY_SECONDS", default=900)
# Unused uploads (and their bytes) are deleted this many hours after they expired.
SARTIQ_UPLOAD_RETENTION_HOURS = env.int("SARTIQ_UPLOAD_RETENTION_HOURS", default=24)

# --- SQL console (AIMG pgQuery) -----------------------------------------------------------------
# Off unless enabled; superusers' admin keys only, read-only, audited (SqlQueryAudit).
PGQUERY_ENABLED = env.bool("PGQUERY_ENABLED", default=False)
# Best pointed at a role that can only read: "postgres://readonly@db/atelier". Default: the main database.
PGQUERY_DATABASE_URL = env.str("PGQUERY_DATABASE_URL", default="")
PGQUERY_MAX_ROWS = env.int("PGQUERY_MAX_ROWS", default=1000)
PGQUERY_STATEMENT_TIMEOUT_MS = env.int("PGQUERY_STATEMENT_TIMEOUT_MS", default=5000)

# --- File server (AIMG uploadFile / getFile) ----------------------------------------------------
FILE_SERVER_MAX_BYTES = env.int("FILE_SERVER_MAX_BYTES", default=100 * 1024 * 1024)
FILE_SERVER_CHECKSUM_ALGORITHM = env.str("FILE_SERVER_CHECKSUM_ALGORITHM", default="sha256")
# The {BaseURL} under which getFile is public, e.g. "https://api.example.com"; empty: the request's own.
FILE_SERVER_PUBLIC_BASE_URL = env.str("FILE_SERVER_PUBLIC_BASE_URL", default="")
# The old file server getFile falls back to with fs=true, e.g. "https://files.example.com"; empty: none.
FILE_SERVER_LEGACY_BASE_URL = env.str("FILE_SERVER_LEGACY_BASE_URL", default="")
FILE_SERVER_LEGACY_TIMEOUT = env.float("FILE_SERVER_LEGACY_TIMEOUT", default=120.0)
FILE_SERVER_CACHE_MAX_AGE = env.int("FILE_SERVER_CACHE_MAX_AGE", default=86400)

# --- LoRA files of the Sartiq catalogue (apps.core.sartiq.lora) ---------------------------------
# The largest LoRA file an upload may carry (.safetensors, .ckpt, .pt, .pth, .bin); larger: 413.
LORA_MAX_BYTES = env.int("LORA_MAX_BYTES", default=100 * 1024 * 1024)

# --- Generation engine (apps.text2image) -----------------------------------------------------------
# The models generateImage and generateVideo use when the request names none.
GENERATION_DEFAULT_IMAGE_MODEL = env.str("GENERATION_DEFAULT_IMAGE_MODEL", default="f222")
GENERATION_DEFAULT_VIDEO_MODEL = env.str("GENERATION_DEFAULT_VIDEO_MODEL", default="model3")
# Longest a run may take (seconds) unless its model sets its own limit; the reaper fails it after that.
GENERATION_JOB_TIMEOUT = env.int("GENERATION_JOB_TIMEOUT", default=600)
# A running job's lease (seconds), renewed while it runs: a worker that dies lets it expire, and the
# job runs again (at most GENERATION_JOB_MAX_ATTEMPTS times in all).
GENERATION_JOB_LEASE_SECONDS = env.int("GENERATION_JOB_LEASE_SECONDS", default=60)
GENERATION_JOB_MAX_ATTEMPTS = env.int("GENERATION_JOB_MAX_ATTEMPTS", default=3)
# A queued job that no worker took within this many seconds fails (the reaper).
GENERATION_QUEUED_TIMEOUT = env.int("GENERATION_QUEUED_TIMEOUT", default=6 * 3600)
# Users of at least this PRO tier go to the models' -p1- priority queues.
GENERATION_PRIORITY_MIN_TIER = env.int("GENERATION_PRIORITY_MIN_TIER", default=1)
# generateImage/generateVideo run a job during the request when its provider expects to finish within
# this many seconds and nobody is ahead in its queue (0: always through a worker).
GENERATION_INLINE_BUDGET = env.float("GENERATION_INLINE_BUDGET", default=0.0)
GENERATION_MAX_BATCH_SIZE = env.int("GENERATION_MAX_BATCH_SIZE", default=8)
# A worker that consumes the default queue also takes every enabled model's queues when it starts.
GENERATION_WORKER_AUTO_QUEUES = env.bool("GENERATION_WORKER_AUTO_QUEUES", default=True)

# --- API2 workflows (apps.text2image) ---------------------------------------------------------------
# The API2 environment this installation is: a2stage or a2prod. Only templates deployed to it are offered.
API2_DEPLOYMENT = env.str("API2_DEPLOYMENT", default="a2prod")

# --- Email ----------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Atelier <no-reply@localhost>")

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "apps.core.schema.DialectAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Every API view belongs to a dialect (apps.core.dialects); these apply only to the
    # few views outside any dialect (health, schema).
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "EXCEPTION_HANDLER": "apps.core.dialects.exception_handler",
    "DEFAULT_METADATA_CLASS": "apps.core.dialects.metadata.DialectMetadata",
    # Every API reads JSON bodies; the views that take forms or files say so (OCS, uploads, the
    # OAuth start, the access-token login), so the schema lists only what each operation reads.
    "DEFAULT_PARSER_CLASSES": ["apps.core.dialects.parsers.LimitedJSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Atelier API",
    "DESCRIPTION": (
        "One back end, four published dialects: AIMG (community API), Sartiq (studio API, /api/v1/), "
        "Nextcloud OCS (/ocs/) and Neuroflash (/api/image-service/v1/)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/",
    # The security schemes of every credential (apps.core.schema), even those no operation uses yet.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.schema.add_security_schemes",
        "apps.core.schema.document_wire_formats",
    ],
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    # Swagger UI and ReDoc are served from this deployment, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security headers -----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# --- Logging --------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="text")  # "text" or "json"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.logging.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.request": {"level": "ERROR"},
    },
}

# --- Back office ---------------------------------------------------------------------------------
ADMIN_SITE_HEADER = "Atelier back office"

# --- Items ----------------------------------------------------------------------------------------
# How many of their newest items free-tier users see in their library (getMyCreations answers
# proLimitHit when it trims the list); 0: no limit.
FREE_TIER_LIBRARY_LIMIT = env.int("FREE_TIER_LIBRARY_LIMIT", default=0)

# --- Nextcloud OCS text2image / textprocessing (/ocs/v2.php/, /ocs/v1.php/) -----------------------
# The catalogue model (AIMG modelID) OCS text2image generates with; empty: the default image model.
OCS_TEXT2IMAGE_MODEL = env.str("OCS_TEXT2IMAGE_MODEL", default="")
# Subject ZIP uploads: the largest archive (bytes), and the caps its reading stops at.
SUBJECT_ZIP_MAX_BYTES = env.int("SUBJECT_ZIP_MAX_BYTES", default=512 * 1024 * 1024)
SUBJECT_ZIP_MAX_MEMBERS = env.int("SUBJECT_ZIP_MAX_MEMBERS", default=10_000)
SUBJECT_ZIP_MAX_UNCOMPRESSED_BYTES = env.int("SUBJECT_ZIP_MAX_UNCOMPRESSED_BYTES", default=2048 * 1024 * 1024)
SUBJECT_ZIP_MAX_RATIO = env.float("SUBJECT_ZIP_MAX_RATIO", default=100.0)
# numberOfImages defaults to 8, as in Nextcloud; a larger request is capped to this many images.
OCS_TEXT2IMAGE_MAX_IMAGES = env.int("OCS_TEXT2IMAGE_MAX_IMAGES", default=8)
# The longest input (characters) a task accepts; longer: 400.
OCS_MAX_INPUT_CHARS = env.int("OCS_MAX_INPUT_CHARS", default=64_000)
# A task runs during the request when its provider expects to finish within OCS_INLINE_SHARE of the
# request budget (the web server's timeout, seconds); otherwise a Celery worker runs it.
OCS_REQUEST_BUDGET_SECONDS = env.float("OCS_REQUEST_BUDGET_SECONDS", default=30.0)
OCS_INLINE_SHARE = env.float("OCS_INLINE_SHARE", default=0.8)
# schedule: at most this many per period per signed-in user, and per IP for anonymous callers.
OCS_SCHEDULE_USER_LIMIT = env.int("OCS_SCHEDULE_USER_LIMIT", default=20)
OCS_SCHEDULE_ANONYMOUS_LIMIT = env.int("OCS_SCHEDULE_ANONYMOUS_LIMIT", default=5)
OCS_SCHEDULE_PERIOD_SECONDS = env.int("OCS_SCHEDULE_PERIOD_SECONDS", default=120)
# Anti-enumeration: an IP whose task lookups answered 404 this many times within the period gets
# 429 on task lookups until the period has passed.
OCS_NOT_FOUND_LIMIT = env.int("OCS_NOT_FOUND_LIMIT", default=20)
OCS_NOT_FOUND_PERIOD_SECONDS = env.int("OCS_NOT_FOUND_PERIOD_SECONDS", default=600)
# Tasks are deleted (with their images) this many days after their last update, as in Nextcloud.
OCS_TASK_RETENTION_DAYS = env.int("OCS_TASK_RETENTION_DAYS", default=7)
# Textprocessing through an OpenAI-compatible chat-completions server; empty base URL: none, and
# then only the built-in provider (Summary, Headline, Topics; no free prompts) serves.
OCS_TEXT_OPENAI_BASE_URL = env.str("OCS_TEXT_OPENAI_BASE_URL", default="")
OCS_TEXT_OPENAI_MODEL = env.str("OCS_TEXT_OPENAI_MODEL", default="gpt-4o-mini")
OCS_TEXT_OPENAI_API_KEY = env.str("OCS_TEXT_OPENAI_API_KEY", default="")
OCS_TEXT_OPENAI_TIMEOUT = env.float("OCS_TEXT_OPENAI_TIMEOUT", default=120.0)
OCS_TEXT_OPENAI_EXPECTED_SECONDS = env.float("OCS_TEXT_OPENAI_EXPECTED_SECONDS", default=30.0)
# The built-in provider (keyword statistics, no model) and the language of its stop-word lists.
OCS_TEXT_EMBEDDED_ENABLED = env.bool("OCS_TEXT_EMBEDDED_ENABLED", default=True)
OCS_TEXT_LANGUAGE = env.str("OCS_TEXT_LANGUAGE", default="en")
