"""Sign-in, sign-out and password reset with rate limits, and the user's own devices.

django-axes locks a username+address pair after repeated failures (its middleware
answers with registration/locked_out.html); the rate limits below slow down guessing
across many usernames or from many addresses. Both answer the same whether the
account exists or not.
"""

from collections.abc import Callable

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from accounts import sign_ins
from accounts.forms import FirstPasswordChangeForm, ResetPasswordForm
from accounts.models import SignIn


def _setting(name: str):
    return lambda group, request: getattr(settings, name)


def _posted(field: str):
    return lambda group, request: request.POST.get(field, "").strip().lower()


def sign_in_guarded(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The rate limit of a sign-in view (the site's and the operator admin's): every POST
    counts against the address. There is no limit per username across addresses: it
    would let anyone lock a classmate out; the username+address lock (django-axes) and
    the password policy stop guessing instead."""
    return ratelimit(key="ip", rate=_setting("SIGN_IN_RATE_PER_ADDRESS"), method="POST")(view)


EXPIRY_MESSAGES = {
    "idle": gettext_lazy(
        "You were signed out after a while without activity. Please sign in again."
    ),
    "lifetime": gettext_lazy("Your sign-in has reached its time limit. Please sign in again."),
}


class SignInView(auth_views.LoginView):
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["expired_message"] = EXPIRY_MESSAGES.get(self.request.GET.get("expired", ""), "")
        return context


@method_decorator(
    ratelimit(key="ip", rate=_setting("PASSWORD_RESET_RATE_PER_ADDRESS"), method="POST"),
    name="post",
)
@method_decorator(
    ratelimit(
        group="password-reset-email",
        key=_posted("email"),
        rate=_setting("PASSWORD_RESET_RATE_PER_EMAIL"),
        method="POST",
    ),
    name="post",
)
class RateLimitedPasswordResetView(auth_views.PasswordResetView):
    success_url = reverse_lazy("accounts:password-reset-done")
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"


@method_decorator(
    ratelimit(key="ip", rate=_setting("PASSWORD_RESET_RATE_PER_ADDRESS"), method="POST"),
    name="post",
)
class RateLimitedPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = ResetPasswordForm
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # The lock page sends a locked-out owner here; the link from their e-mail proves
        # who they are, so the new password works at once, from every address.
        axes_reset(username=form.user.username.lower())
        # Whoever knew the old password is signed out everywhere, room sockets included.
        sign_ins.sign_ins_end_all(form.user)
        return response


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """django-axes' answer to a locked username+address pair (AXES_LOCKOUT_CALLABLE)."""
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(request, "registration/locked_out.html", {"cooloff_minutes": minutes}, status=429)


class PasswordChangeKeepingSignIn(auth_views.PasswordChangeView):
    """Django gives the session a new key when the password changes; the sign-in on
    "My devices" keeps pointing at it. Every other sign-in ends: whoever knew the old
    password is signed out everywhere else."""

    form_class = FirstPasswordChangeForm
    success_url = reverse_lazy("accounts:password-change-done")

    def form_valid(self, form):
        old_key = self.request.session.session_key
        response = super().form_valid(form)
        new_key = self.request.session.session_key
        sign_ins.sign_in_rekey(old_key=old_key, new_key=new_key)
        sign_ins.sign_ins_end_all(self.request.user, keep_session_key=new_key)
        return response


@login_required
def devices(request: HttpRequest) -> HttpResponse:
    """The user's active sign-ins: where and when, and a button to end the others."""
    current_key = request.session.session_key
    rows = sign_ins.active_sign_ins(request.user)
    return render(
        request,
        "accounts/devices.html",
        {
            "sign_ins": rows,
            "current_key": current_key,
            "others": sum(1 for row in rows if row.session_key != current_key),
        },
    )


@login_required
@require_POST
def device_sign_out(request: HttpRequest, sign_in_id: int) -> HttpResponse:
    current = SignIn.objects.filter(
        pk=sign_in_id, user=request.user, session_key=request.session.session_key
    ).exists()
    if current:  # ending this very sign-in is signing out
        logout(request)
        return redirect("accounts:login")
    if sign_ins.sign_in_end(user=request.user, sign_in_id=sign_in_id):
        messages.success(request, _("That device was signed out."))
    else:
        messages.info(request, _("That sign-in had already ended."))
    return redirect("accounts:devices")


@login_required
@require_POST
def devices_sign_out_others(request: HttpRequest) -> HttpResponse:
    ended = sign_ins.sign_ins_end_all(request.user, keep_session_key=request.session.session_key)
    messages.success(request, _("Other devices signed out: %(count)d.") % {"count": ended})
    return redirect("accounts:devices")
