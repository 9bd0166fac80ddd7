"""Users and sessions (django-allauth, headless for the SPA), MFA, profile."""
