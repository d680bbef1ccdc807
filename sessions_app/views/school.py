"""The school admin's pages: booking settings and emergency contacts, and counts only."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.permissions import school_admin_required
from instruments.selectors import school_completion_counts
from sessions_app.forms import BookingPolicyForm, EmergencyContactFormSet
from sessions_app.policy import booking_policy_for
from sessions_app.selectors import school_session_counts


@school_admin_required
def booking_settings(request: HttpRequest) -> HttpResponse:
    school = request.user.school
    policy = booking_policy_for(school)
    form = BookingPolicyForm(request.POST or None, instance=policy)
    contacts = EmergencyContactFormSet(request.POST or None, instance=school, prefix="contacts")
    if request.method == "POST":
        if form.is_valid() and contacts.is_valid():
            with transaction.atomic():
                form.save()
                contacts.save()
            messages.success(request, _("The booking settings were saved."))
            return redirect("sessions:booking-settings")
        messages.error(request, _("Please correct the marked fields."))
    return render(
        request,
        "sessions_app/booking_settings.html",
        {"form": form, "contacts": contacts},
        status=400 if request.method == "POST" else 200,
    )


@school_admin_required
def session_statistics(request: HttpRequest) -> HttpResponse:
    counts = school_session_counts(school=request.user.school)
    counts["questionnaires"] = school_completion_counts(school=request.user.school)
    return render(request, "sessions_app/statistics.html", counts)
