"""Writes for users and their sessions. Sign-up, login and the rest go through allauth."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.usersessions.adapter import get_adapter as get_usersessions_adapter
from allauth.usersessions.models import UserSession
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import IntegrityError, models, transaction
from django.db.models import F

from controlplane.accounts.models import User
from controlplane.core.errors import ValidationFailed

_EMAIL_TAKEN = "A user with this email address already exists."


@transaction.atomic
def user_create(*, email: str, password: str, name: str = "", verified: bool = False) -> User:
    """Create a user who signs in with `email` and `password`, outside the sign-up flow.

    For operators (the `bootstrap` command), not the public: unlike sign-up it says
    plainly that an email is taken. The email is stored lowercased, with allauth's
    primary EmailAddress (verified or not, as asked) so allauth treats it like a user
    who signed up. Raises ValidationFailed with per-field details.
    """
    email = email.strip().lower()
    if not email:
        raise ValidationFailed("An email address is required.", details={"email": ["This field is required."]})
    _validate_field("email", email, "The email address is not valid.")
    _validate_field("name", name, "The name is not valid.")
    if User.objects.filter(email__iexact=email).exists() or EmailAddress.objects.filter(email__iexact=email).exists():
        raise ValidationFailed(_EMAIL_TAKEN, details={"email": [_EMAIL_TAKEN]})
    try:
        validate_password(password, user=User(email=email, name=name))
    except ValidationError as exc:
        raise ValidationFailed("The password is not acceptable.", details={"password": exc.messages}) from None
    try:
        # A savepoint, so a concurrent create of the same email becomes a clean error.
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, name=name)
    except IntegrityError:
        raise ValidationFailed(_EMAIL_TAKEN, details={"email": [_EMAIL_TAKEN]}) from None
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=verified)
    return user


def _validate_field(field_name: str, value: str, message: str) -> None:
    """The model field's own checks (format, length, no NUL), as a ValidationFailed."""
    field = User._meta.get_field(field_name)
    assert isinstance(field, models.Field)
    try:
        ProhibitNullCharactersValidator()(value)  # PostgreSQL text cannot hold NUL
        field.run_validators(value)
    except ValidationError as exc:
        raise ValidationFailed(message, details={field_name: exc.messages}) from None


@transaction.atomic
def user_sessions_end(*, user: User) -> int:
    """End every session `user` has, at once; return how many recorded ones were live.

    Bumping the user's session generation invalidates every session (browser cookie or
    app token, recorded or not): Django checks it on the session's next request. The
    sessions allauth recorded at sign-in (allauth.usersessions) are then deleted from
    the store and from the user's session list.
    """
    # purge_and_list drops records whose session already expired or was cut off.
    live = UserSession.objects.purge_and_list(user)
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    get_usersessions_adapter().end_sessions(live)
    return len(live)


@transaction.atomic
def user_profile_update(*, user: User, name: str) -> User:
    user.name = name
    user.save(update_fields=["name"])
    return user
