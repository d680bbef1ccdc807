"""The school admin's account pages: list, create, edit, deactivate, reset, assign, classes."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts import services
from accounts.credentials import credentials_remember
from accounts.forms import (
    AccountCreateForm,
    AccountFilterForm,
    AccountForm,
    ClassAssignForm,
    GuardianConsentForm,
    SchoolClassForm,
    StudentProfileForm,
)
from accounts.models import SchoolClass, StudentProfile, User
from accounts.permissions import school_admin_required
from accounts.selectors import (
    school_account_get,
    school_accounts,
    school_class_get,
    school_classes,
)

ACCOUNTS_PER_PAGE = 50


def _add_errors(form, error: ValidationError | services.AccountError) -> None:
    if isinstance(error, services.AccountError):
        form.add_error(None, error.message)
    elif hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@school_admin_required
def account_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    users = school_accounts(admin=request.user, **AccountFilterForm(params).filters())
    page = Paginator(users, ACCOUNTS_PER_PAGE).get_page(params.get("page"))
    query_string = params.copy()
    query_string.pop("page", None)
    context = {
        "page": page,
        "roles": User.Role.choices,
        "classes": school_classes(school_id=request.user.school_id),
        "filters": params,
        "query_string": query_string.urlencode(),
    }
    return render(request, "accounts/account_list.html", context)


@school_admin_required
def account_create(request: HttpRequest) -> HttpResponse:
    school_id = request.user.school_id
    initial_role = request.GET.get("role", User.Role.STUDENT)
    data = request.POST if request.method == "POST" else None
    form = AccountCreateForm(data, initial={"role": initial_role})
    profile_form = StudentProfileForm(data, school_id=school_id, prefix="profile")
    if request.method == "POST" and form.is_valid():
        is_student = form.cleaned_data["role"] == User.Role.STUDENT
        # A student's details are validated (and their errors shown) only for students.
        if not is_student or profile_form.is_valid():
            try:
                credential = services.account_create(
                    admin=request.user,
                    role=form.cleaned_data["role"],
                    username=form.cleaned_data["username"],
                    full_name=form.cleaned_data["full_name"],
                    email=form.cleaned_data["email"],
                    profile=profile_form.cleaned_data if is_student else None,
                )
            except (services.AccountError, ValidationError) as error:
                _add_errors(form, error)
            else:
                credentials_remember(admin=request.user, credentials=[credential])
                messages.success(request, _("The account has been created."))
                return redirect("accounts:credentials")
    elif request.method == "POST" and request.POST.get("role") == User.Role.STUDENT:
        profile_form.is_valid()  # show the student fields' errors alongside the others
    context = {"form": form, "profile_form": profile_form}
    return render(request, "accounts/account_create.html", context)


@school_admin_required
def account_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    account = school_account_get(admin=request.user, user_id=user_id)
    profile = getattr(account, "student_profile", None)
    data = request.POST if request.method == "POST" else None
    form = AccountForm(data, initial={"full_name": account.display_name, "email": account.email})
    profile_form = (
        StudentProfileForm(
            data, instance=profile, school_id=request.user.school_id, prefix="profile"
        )
        if profile
        else None
    )
    forms_valid = [form.is_valid(), profile_form is None or profile_form.is_valid()]
    if request.method == "POST" and all(forms_valid):
        try:
            services.account_update(
                admin=request.user,
                user=account,
                full_name=form.cleaned_data["full_name"],
                email=form.cleaned_data["email"],
                profile=profile_form.cleaned_data if profile_form else None,
            )
        except (services.AccountError, ValidationError) as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("accounts:account-edit", user_id=account.pk)
    consent_form = None
    if profile:
        consent_form = GuardianConsentForm(
            initial={
                "has_guardian_consent": profile.has_guardian_consent,
                "guardian_consent_date": profile.guardian_consent_date,
            }
        )
    context = {
        "account": account,
        "profile": profile,
        "form": form,
        "profile_form": profile_form,
        "consent_form": consent_form,
    }
    return render(request, "accounts/account_edit.html", context)


@school_admin_required
def account_consent(request: HttpRequest, user_id: int) -> HttpResponse:
    account = school_account_get(admin=request.user, user_id=user_id)
    profile: StudentProfile | None = getattr(account, "student_profile", None)
    if profile is None:
        messages.error(request, _("Guardian consent is recorded for students only."))
        return redirect("accounts:account-edit", user_id=account.pk)
    form = GuardianConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.guardian_consent_record(
            admin=request.user,
            profile=profile,
            has_consent=form.cleaned_data["has_guardian_consent"],
            consent_date=form.cleaned_data["guardian_consent_date"],
        )
        messages.success(request, _("Guardian consent has been recorded."))
        return redirect("accounts:account-edit", user_id=account.pk)
    return render(
        request, "accounts/account_consent.html", {"account": account, "consent_form": form}
    )


@require_POST
@school_admin_required
def account_set_active(request: HttpRequest, user_id: int) -> HttpResponse:
    account = school_account_get(admin=request.user, user_id=user_id)
    is_active = request.POST.get("is_active") == "1"
    try:
        unassigned = services.account_set_active(
            admin=request.user, user=account, is_active=is_active
        )
    except services.AccountError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The account has been activated.")
            if is_active
            else _("The account has been deactivated."),
        )
        if unassigned:
            messages.warning(
                request,
                ngettext(
                    "%(count)d student no longer has a counselor: assign a new one.",
                    "%(count)d students no longer have a counselor: assign a new one.",
                    unassigned,
                )
                % {"count": unassigned},
            )
    return redirect("accounts:account-edit", user_id=account.pk)


@require_POST
@school_admin_required
def account_password_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    account = school_account_get(admin=request.user, user_id=user_id)
    credential = services.account_password_reset(admin=request.user, user=account)
    credentials_remember(admin=request.user, credentials=[credential])
    messages.success(request, _("A new initial password has been issued."))
    return redirect("accounts:credentials")


@school_admin_required
def counselor_assign_class(request: HttpRequest) -> HttpResponse:
    form = ClassAssignForm(request.POST or None, school_id=request.user.school_id)
    if request.method == "POST" and form.is_valid():
        try:
            count = services.counselor_assign_class(
                admin=request.user,
                school_class=form.cleaned_data["school_class"],
                counselor=form.cleaned_data["counselor"],
            )
        except services.AccountError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("%(count)d students of %(class)s now have %(counselor)s as their counselor.")
                % {
                    "count": count,
                    "class": form.cleaned_data["school_class"].name,
                    "counselor": form.cleaned_data["counselor"].display_name,
                },
            )
            return redirect("accounts:assign-class")
    return render(request, "accounts/assign_class.html", {"form": form})


@school_admin_required
def class_list(request: HttpRequest) -> HttpResponse:
    school = request.user.school
    form = SchoolClassForm(
        request.POST or None,
        school_id=school.pk,
        initial={"academic_year": school.current_academic_year()},
    )
    if request.method == "POST" and form.is_valid():
        services.school_class_save(admin=request.user, school_class=form.save(commit=False))
        messages.success(request, _("The class has been added."))
        return redirect("accounts:class-list")
    context = {"classes": school_classes(school_id=school.pk), "form": form}
    return render(request, "accounts/class_list.html", context)


@school_admin_required
def class_edit(request: HttpRequest, class_id: int) -> HttpResponse:
    school_class: SchoolClass = school_class_get(admin=request.user, class_id=class_id)
    form = SchoolClassForm(
        request.POST or None, instance=school_class, school_id=request.user.school_id
    )
    if request.method == "POST" and form.is_valid():
        services.school_class_save(admin=request.user, school_class=form.save(commit=False))
        messages.success(request, _("The changes have been saved."))
        return redirect("accounts:class-list")
    return render(request, "accounts/class_edit.html", {"form": form, "school_class": school_class})
