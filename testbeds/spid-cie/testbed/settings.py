"""Minimal Django project for Palazzo's local SPID/CIE OIDC federation.

One process = one OP profile.  Everything comes from environment variables
(start.sh sets them):

  SPIDCIE_BASE_URL   this process's base URL, e.g. http://127.0.0.1:8100 (no trailing slash)
  SPIDCIE_TA         the Trust Anchor entity id (default: SPIDCIE_BASE_URL)
  SPIDCIE_PROFILE    spid | cie                       (default: spid)
  SPIDCIE_DB         path of the SQLite database      (required)
  SPIDCIE_LOG        path of the log file             (default: <db>.log)
  SPIDCIE_DEBUG      1 to turn Django DEBUG on        (default: off)
  SPIDCIE_SECRET_KEY Django secret key                (default: a fixed test value)
"""
import os
from pathlib import Path

import aiohttp


def _env(name, default=None):
    v = os.environ.get(name, default)
    if v is None:
        raise RuntimeError(f"environment variable {name} is required")
    return v


BASE_URL = _env("SPIDCIE_BASE_URL", "http://127.0.0.1:8100").rstrip("/")
TRUST_ANCHOR = _env("SPIDCIE_TA", BASE_URL).rstrip("/")
DB_PATH = Path(_env("SPIDCIE_DB"))
LOG_PATH = Path(os.environ.get("SPIDCIE_LOG") or f"{DB_PATH}.log")

SECRET_KEY = os.environ.get("SPIDCIE_SECRET_KEY", "palazzo-testbed-not-a-secret")
DEBUG = os.environ.get("SPIDCIE_DEBUG", "0") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
APPEND_SLASH = False

INSTALLED_APPS = [
    "spid_cie_oidc.accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "bootstrap_italia_template",
    "spid_cie_oidc.entity",
    "spid_cie_oidc.authority",
    "spid_cie_oidc.provider",
]
AUTH_USER_MODEL = "spid_cie_oidc_accounts.User"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "testbed.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DB_PATH),
        # two processes (register_rp.py + runserver) may write at once
        "OPTIONS": {"timeout": 20},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LANGUAGE_CODE = "it-it"
TIME_ZONE = "Europe/Rome"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
# Test-only: fast password hashing keeps migrate + bootstrap quick.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- spid-cie-oidc -----------------------------------------------------------
OIDCFED_DEFAULT_TRUST_ANCHOR = TRUST_ANCHOR
OIDCFED_TRUST_ANCHORS = [TRUST_ANCHOR]
OIDCFED_PROVIDER_PROFILE = _env("SPIDCIE_PROFILE", "spid")
if OIDCFED_PROVIDER_PROFILE not in ("spid", "cie"):
    raise RuntimeError("SPIDCIE_PROFILE must be spid or cie")
OIDCFED_REQUIRED_TRUST_MARKS = []
OIDCFED_PROVIDER_SALT = "palazzo-testbed-salt"
HTTPC_PARAMS = {
    "connection": {"ssl": True},
    "session": {"timeout": aiohttp.ClientTimeout(total=4)},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "default": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "file": {
            "class": "logging.FileHandler",
            "filename": str(LOG_PATH),
            "formatter": "default",
        },
    },
    "root": {"handlers": ["file"], "level": "INFO"},
    "loggers": {
        "django": {"handlers": ["file"], "level": "INFO", "propagate": False},
        "spid_cie_oidc": {"handlers": ["file"], "level": "DEBUG", "propagate": False},
    },
}
