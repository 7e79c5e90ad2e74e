"""Settings shared by every environment; each value can come from the environment."""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.database import admin_database, connection_aliases

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A development-only fallback; production.py refuses to start without a real key.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="development-only-not-secret-stockyard")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_htmx",
    "django_tables2",
    "axes",
    "ninja",  # serves the API docs' Swagger UI from its bundled static files
    "procrastinate.contrib.django",  # the job runner; tasks live in each app's tasks.py
    "warehouse",
    "inventory",
    "analytics",
]

MIDDLEWARE = [
    # Outermost: they turn what any layer below answers into JSON under /api/ and
    # a database outage into 503 (config/middleware.py).
    "config.middleware.ApiErrorMiddleware",
    "config.middleware.DatabaseOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "warehouse.middleware.HtmxSignInRedirectMiddleware",
    "warehouse.middleware.TenantMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the 429 page.
    "axes.middleware.AxesMiddleware",
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
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "warehouse.context_processors.tenancy",
            ],
        },
    },
]

ADMIN_DATABASE = admin_database(env)
DATABASES = connection_aliases(env, ADMIN_DATABASE)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background jobs run on procrastinate, in this database. Jobs are deferred and
# fetched as the app role; tasks that must span tenants open the maintenance
# connection themselves (inventory/tasks.py). Finished jobs are deleted, so the
# queue does not grow with every periodic run; failed ones stay for inspection.
PROCRASTINATE_DATABASE_ALIAS = "default"
PROCRASTINATE_WORKER_DEFAULTS = {"delete_jobs": "successful"}
# How long a client's idempotency key answers with the stored response; after
# that the same key is a new request (inventory/idempotency.py). At least a day.
IDEMPOTENCY_KEY_RETENTION_HOURS = env.int("IDEMPOTENCY_KEY_RETENTION_HOURS", default=24)
if not 24 <= IDEMPOTENCY_KEY_RETENTION_HOURS <= 24 * 3660:
    # A client retrying through a day-long outage must still get its replay; past
    # ten years the cut-off would leave PostgreSQL's range of timestamps.
    raise ImproperlyConfigured(
        "IDEMPOTENCY_KEY_RETENTION_HOURS must be 24 or more (at most 87840)."
    )

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The throttle runs first and refuses a locked-out sign-in before any password
# is hashed; see warehouse/throttle.py.
AUTHENTICATION_BACKENDS = [
    "warehouse.throttle.SignInThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
CSRF_FAILURE_VIEW = "warehouse.views.csrf_failure"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("STOCKYARD_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

MESSAGE_TAGS = {40: "danger"}
# Every list screen: sort and page links that htmx follows too (inventory.web.tables).
DJANGO_TABLES2_TEMPLATE = "tables/table.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table table-hover align-middle mb-0"}

# Content Security Policy: every asset is served by the app itself, so pages
# may load scripts, styles, fonts and images from their own origin only. No
# inline script or style attribute runs; a script that must be inline carries
# the request's nonce ({{ csp_nonce }}). htmx is configured in base.html not to
# evaluate code or inject its own style element.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    # Bootstrap draws form controls with data: SVG images.
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=60 * 60 * 12)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    # Django's own loggers would otherwise print through their handler and the root's.
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # axes announces its configuration at every start; lockouts are warnings.
        "axes": {"level": "WARNING"},
        # Task registration is announced at every start; jobs still log at INFO.
        "procrastinate.periodic": {"level": "WARNING"},
        "procrastinate.blueprints": {"level": "WARNING"},
    },
}

# Sign-in throttling (django-axes, see warehouse/throttle.py): failures are
# counted per username and address, and more loosely per address alone, so a
# guesser is stopped without locking the account's owner out everywhere.
AXES_HANDLER = "warehouse.throttle.SignInThrottleHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env.int("STOCKYARD_SIGN_IN_FAILURE_LIMIT", default=5)
STOCKYARD_SIGN_IN_ADDRESS_FAILURE_LIMIT = env.int(
    "STOCKYARD_SIGN_IN_ADDRESS_FAILURE_LIMIT", default=50
)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("STOCKYARD_SIGN_IN_COOL_OFF_MINUTES", default=15))
# A refused attempt during the lockout does not restart the cool-off, so the
# "try again in 15 minutes" on the page stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "warehouse.throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "warehouse.throttle.client_address"
# Reverse proxies in front of the app whose X-Forwarded-For is trusted; 0
# counts failures against the connecting address (REMOTE_ADDR).
STOCKYARD_TRUSTED_PROXY_COUNT = env.int("STOCKYARD_TRUSTED_PROXY_COUNT", default=0)

# Password of the demo accounts that ``manage.py seed_demo`` creates.
DEMO_PASSWORD = env.str("STOCKYARD_DEMO_PASSWORD", default="Forklift-Pallet-2026")

# Analytics warehouse (the dw schema, analytics/dw/). ``POST /admin/refresh-mv``
# refreshes dw.current_stock_mv for a caller sending this token in
# ``X-Admin-Token``; unset or empty, the endpoint refuses everyone.
ADMIN_TOKEN = env.str("ADMIN_TOKEN", default="") or None
# How often the job runner refreshes dw.current_stock_mv, in minutes (1 to 60).
DW_REFRESH_MINUTES = env.int("DW_REFRESH_MINUTES", default=5)
if not 1 <= DW_REFRESH_MINUTES <= 60:
    raise ImproperlyConfigured("DW_REFRESH_MINUTES must be between 1 and 60.")

# Reports may read from a streaming replica (analytics/routers.py). With
# ANALYTICS_DATABASE_URL set, the ``analytics`` alias is the app role, as on
# ``default`` (row-level security, its statement timeout, the tenant set per
# transaction), on the server, port and database that URL names; the URL may
# carry the role's password on that server, and names no other user.
ANALYTICS_DATABASE_URL = env.str("ANALYTICS_DATABASE_URL", default="")
if ANALYTICS_DATABASE_URL:
    _analytics = env.db_url_config(ANALYTICS_DATABASE_URL)
    _analytics_options = dict(_analytics.get("OPTIONS") or {})
    if _analytics.get("USER") not in ("", None, DATABASES["default"]["USER"]):
        raise ImproperlyConfigured(
            "ANALYTICS_DATABASE_URL must name the app role "
            f"({DATABASES['default']['USER']}) or no user."
        )
    DATABASES["analytics"] = {
        **DATABASES["default"],
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _analytics.get("NAME") or DATABASES["default"]["NAME"],
        # A Unix-socket folder given as ``?host=`` is the host.
        "HOST": _analytics_options.pop("host", "") or _analytics.get("HOST", ""),
        "PORT": _analytics.get("PORT", ""),
        "PASSWORD": _analytics.get("PASSWORD") or DATABASES["default"]["PASSWORD"],
        "OPTIONS": {**DATABASES["default"]["OPTIONS"], **_analytics_options},
        # Tests read the replica as the test database itself.
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["analytics.routers.AnalyticsRouter"]
