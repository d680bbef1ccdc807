"""Forms of the account pages. Validation messages are specific and translated."""

import datetime

from django import forms
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.importing import MAX_IMPORT_BYTES
from accounts.models import SchoolClass, StudentProfile, User
from accounts.selectors import school_classes, school_counselors
from counseling_platform.query import ID_MAX


class AccountFilterForm(forms.Form):
    """The account list's search and filters; an invalid value is simply not applied."""

    q = forms.CharField(required=False, max_length=100)
    role = forms.ChoiceField(required=False, choices=[("", ""), *User.Role.choices])
    without = forms.ChoiceField(
        required=False, choices=[("", ""), ("counselor", ""), ("consent", "")]
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["class"] = forms.IntegerField(required=False, min_value=1, max_value=ID_MAX)

    def filters(self) -> dict:
        self.is_valid()
        cleaned = self.cleaned_data  # holds only the fields that were valid
        return {
            "query": (cleaned.get("q") or "").strip(),
            "role": cleaned.get("role") or "",
            "class_id": cleaned.get("class"),
            "without_counselor": cleaned.get("without") == "counselor",
            "without_consent": cleaned.get("without") == "consent",
        }


class AccountForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), required=False)


class AccountCreateForm(AccountForm):
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices)
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": _("Use only letters, digits and . @ + - _")},
        help_text=_("For students, use their NISN."),
    )
    field_order = ["role", "full_name", "username", "email"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("That username is already taken."))
        return username


class StudentProfileForm(forms.ModelForm):
    """A student's profile fields; class and counselor limited to the admin's school."""

    class Meta:
        model = StudentProfile
        fields = ["nisn", "school_class", "gender", "guardian_name", "guardian_phone", "counselor"]

    def __init__(self, *args, school_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school_class"].queryset = school_classes(school_id=school_id)
        self.fields["school_class"].required = True
        self.fields["counselor"].queryset = school_counselors(school_id=school_id)
        self.fields["counselor"].empty_label = _("— no counselor yet —")


class GuardianConsentForm(forms.Form):
    has_guardian_consent = forms.BooleanField(
        label=_("The guardian has given written consent"), required=False
    )
    guardian_consent_date = forms.DateField(
        label=_("Date of consent"),
        required=False,
        # A date input only accepts ISO dates, whatever the page's language.
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        consent_date: datetime.date | None = cleaned.get("guardian_consent_date")
        if cleaned.get("has_guardian_consent") and consent_date is None:
            self.add_error("guardian_consent_date", _("Enter the date the guardian gave consent."))
        if consent_date and consent_date > timezone.localdate():
            self.add_error("guardian_consent_date", _("The date cannot be in the future."))
        return cleaned


class CounselorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class ClassAssignForm(forms.Form):
    school_class = forms.ModelChoiceField(label=_("Class"), queryset=SchoolClass.objects.none())
    counselor = CounselorChoiceField(label=_("Counselor"), queryset=User.objects.none())

    def __init__(self, *args, school_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school_class"].queryset = school_classes(school_id=school_id)
        self.fields["counselor"].queryset = school_counselors(school_id=school_id)


class SchoolClassForm(forms.ModelForm):
    class Meta:
        model = SchoolClass
        fields = ["name", "academic_year"]

    def __init__(self, *args, school_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.school_id = school_id

    def clean(self) -> dict:
        cleaned = super().clean()
        name, year = cleaned.get("name"), cleaned.get("academic_year")
        duplicates = SchoolClass.objects.filter(
            school_id=self.school_id, academic_year=year, name__iexact=name or ""
        ).exclude(pk=self.instance.pk)
        if name and year and duplicates.exists():
            self.add_error("name", _("This class already exists in that school year."))
        return cleaned


class StudentImportForm(forms.Form):
    file = forms.FileField(
        label=_("Student list (CSV or XLSX)"),
        help_text=_(
            "Columns: NISN, Nama, Kelas, Jenis Kelamin, Nama Wali, Telepon Wali. "
            "The first row holds the column names."
        ),
    )
    academic_year = forms.IntegerField(
        label=_("School year (first year)"), min_value=2000, max_value=2100
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload


class InitialPasswordReplacedMixin:
    """A password the user chose replaces the initial one: stop asking for a change."""

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.must_change_password = False
        if commit:
            user.save()
        return user


class FirstPasswordChangeForm(InitialPasswordReplacedMixin, PasswordChangeForm):
    pass


class ResetPasswordForm(InitialPasswordReplacedMixin, SetPasswordForm):
    pass
