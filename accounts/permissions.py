"""Role checks for views: one decorator, used by every role-specific page."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.models import User

View = Callable[..., HttpResponse]


def role_required(*roles: str) -> Callable[[View], View]:
    """Anonymous visitors go to the login page; signed-in users of another role get 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.role not in roles or request.user.school_id is None:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


student_required = role_required(User.Role.STUDENT)
counselor_required = role_required(User.Role.COUNSELOR)
school_admin_required = role_required(User.Role.SCHOOL_ADMIN)
