"""Sign-in settings (django-allauth, headless for the SPA). Imported by base.py.

Why each choice was made: docs/decisions/0004-sign-in-with-allauth-headless.md.
What the SPA calls: docs/accounts.md.
"""

from __future__ import annotations

from controlplane.settings.env import env_int

AUTH_APPS: list[str] = [
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",
    "allauth.usersessions",
]
AUTH_MIDDLEWARE: list[str] = [
    # Outermost of the two, so it sees every 429 allauth produces (including the ones
    # AccountMiddleware turns out of an ImmediateHttpResponse).
    "controlplane.accounts.middleware.RateLimitRetryAfterMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

# allauth's backend only: it signs in by email (case-insensitively, through EmailAddress)
# and hashes a dummy password for unknown emails so timing does not tell them apart.
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Password-reset links (Django's token generator) are valid for one hour.
PASSWORD_RESET_TIMEOUT = 3600

# --- allauth: accounts ---------------------------------------------------------------
ACCOUNT_ADAPTER = "controlplane.accounts.adapters.AccountAdapter"
ACCOUNT_USER_DISPLAY = "controlplane.accounts.adapters.user_display"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_UNIQUE_EMAIL = True
# One address per user; changing it keeps the old one until the new one is verified.
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# Links, not codes: a link works on any device and after the session is gone.
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_LOGIN_BY_CODE_ENABLED = False
# Only logs in when the verifying browser is the one that signed up (allauth checks the session).
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
# Keep the session that changed the password; Django ends every other one.
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Tether] "
# Email changes need a fresh re-authentication (MFA changes always do: MFA_REAUTHENTICATION_REQUIRED).
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# Sliding windows kept in the default cache (Redis in production). Spelled out, not left
# to allauth's defaults, so an upgrade cannot loosen them silently. A limited attempt
# answers 429 with Retry-After (controlplane.accounts.middleware and .adapters).
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    # Failed sign-ins per client address and per email; wrong MFA codes count here too
    # (keyed by user).
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    # Verification emails to one address (extra requests are skipped silently).
    "confirm_email": "1/3m/key",
}
# Client address for per-IP limits: REMOTE_ADDR unless N trusted proxies are in front
# (then the N-th address from the right of X-Forwarded-For). Behind Tether's TLS proxy
# set TETHER_TRUSTED_PROXY_COUNT=1, or every client shares the proxy's limits.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TETHER_TRUSTED_PROXY_COUNT", 0, minimum=0)

# --- allauth: MFA ----------------------------------------------------------------------
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Tether"
# Accept the neighbouring 30 s step too: phones drift.
MFA_TOTP_TOLERANCE = 1
MFA_RECOVERY_CODE_COUNT = 10
MFA_REAUTHENTICATION_REQUIRED = True

# --- allauth: sessions ------------------------------------------------------------------
# Sessions are recorded at sign-in; tracking every request would cost a write per request.
USERSESSIONS_TRACK_ACTIVITY = False

# --- allauth: headless --------------------------------------------------------------------
HEADLESS_ONLY = True
# "browser": session cookie + CSRF, for the SPA. "app": X-Session-Token header, for
# non-browser clients of the sign-in API (no cookies, so no CSRF to check).
HEADLESS_CLIENTS = ("browser", "app")
HEADLESS_ADAPTER = "controlplane.accounts.adapters.HeadlessAdapter"
# SPA routes that emails link to. Paths only: the adapter prefixes settings.PUBLIC_URL,
# so links never depend on the Host header of the request that sent them.
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": "/account/verify-email/{key}",
    "account_reset_password": "/account/password/reset",
    "account_reset_password_from_key": "/account/password/reset/key/{key}",
    "account_signup": "/account/signup",
    "socialaccount_login_error": "/account/provider/callback",
}
