from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .models import normalize_email


class EmailBackend(ModelBackend):
    """Sign in by e-mail address in any letter case."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        email = username or kwargs.get(get_user_model().USERNAME_FIELD)
        if email is None or password is None:
            return None
        User = get_user_model()
        try:
            user = User.objects.get(email=normalize_email(email))
        except User.DoesNotExist:
            User().set_password(password)  # same time cost as a real check
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
