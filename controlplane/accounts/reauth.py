"""Has this session's user proven who they are recently? (Gate for sensitive actions.)"""

from __future__ import annotations

import time

from allauth.account.authentication import get_authentication_records
from django.http import HttpRequest

# allauth records one entry per authentication step in the session: "password" for a
# password sign-in and for a password re-authentication, "mfa" for a TOTP or recovery
# code (sign-in second factor or re-authentication). A password reset or an email
# verification proves control of the mailbox, not the credentials, and does not count.
# (When SSO arrives, a fresh provider sign-in, "socialaccount", should count too.)
_PROVING_METHODS = frozenset({"password", "mfa"})


def recently_authenticated(request: HttpRequest, *, within_seconds: int = 300) -> bool:
    """True if the signed-in user's last proof of identity in this session is that recent.

    Uses allauth's per-session authentication log, which is bound to the user it was
    written for and emptied at logout. An anonymous or half-signed-in request (password
    given, second factor pending) is never recent.
    """
    user = request.user
    if not user.is_authenticated:
        return False
    times = [
        float(record["at"])
        for record in get_authentication_records(request, user)
        if record.get("method") in _PROVING_METHODS and isinstance(record.get("at"), int | float)
    ]
    if not times:
        return False
    age = time.time() - max(times)
    # A timestamp from the future is not trusted (a few seconds allow for clock steps).
    return -5 <= age <= within_seconds
