"""The written request a school admin acts on: who made it, when, and its reference."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from counseling_platform.validators import SCHOOL_DATE_VALIDATORS
from privacy.models import DataRequest


class WrittenRequestForm(forms.Form):
    requester = forms.ChoiceField(
        label=_("Requested in writing by"),
        choices=DataRequest.Requester.choices,
        widget=forms.RadioSelect,
    )
    request_date = forms.DateField(
        label=_("Date of the written request"),
        # A date input only accepts ISO dates, whatever the page's language.
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        validators=SCHOOL_DATE_VALIDATORS,
    )
    # The reference outlives an erasure (it is the record that the erasure was asked
    # for), so it must not identify the student or the guardian.
    reference = forms.CharField(
        label=_("Reference or note"),
        max_length=200,
        help_text=_(
            "E.g. the letter's number, or where the signed request is filed. Do not write "
            "the student's or the guardian's name: the reference is kept even after an "
            "erasure."
        ),
    )

    def __init__(self, *args, zone: datetime.tzinfo, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean_request_date(self) -> datetime.date:
        value: datetime.date = self.cleaned_data["request_date"]
        if value > timezone.localdate(timezone=self.zone):
            raise forms.ValidationError(_("The date cannot be in the future."))
        return value


class ErasureRequestForm(WrittenRequestForm):
    """The same fields; `confirmed` is set by the confirmation step."""

    requester = forms.ChoiceField(
        label=_("Requested in writing by"),
        choices=DataRequest.Requester.choices,
        widget=forms.RadioSelect,
        help_text=_("The student, or their parent or guardian."),
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
