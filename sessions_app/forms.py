"""Forms of the booking pages. Dates and times are typed in the school's time zone and
handed to services in UTC."""

import datetime

from django import forms
from django.forms import inlineformset_factory
from django.utils.translation import gettext_lazy as _

from accounts.models import School
from counseling_platform.validators import SCHOOL_DATE_VALIDATORS
from sessions_app.models import (
    Availability,
    AvailabilityException,
    BookingPolicy,
    CounselingSession,
    EmergencyContact,
    SessionLength,
    SessionOutcome,
)
from sessions_app.slots import slot_key_parse

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def local_to_utc(day: datetime.date, time: datetime.time, zone) -> datetime.datetime:
    return datetime.datetime.combine(day, time, tzinfo=zone).astimezone(datetime.UTC)


class BookingForm(forms.Form):
    """The student's booking: a slot, chat or video, and the intake with consent."""

    slot = forms.CharField(
        label=_("Time"),
        error_messages={"required": _("Choose a time first.")},
        widget=forms.HiddenInput,
    )
    mode = forms.ChoiceField(
        label=_("How do you want to meet?"),
        choices=CounselingSession.Mode.choices,
        widget=forms.RadioSelect,
        initial=CounselingSession.Mode.CHAT,
    )
    field = forms.ChoiceField(
        label=_("What is it about?"),
        choices=CounselingSession.Field.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what the session is about.")},
    )
    description = forms.CharField(
        label=_("What would you like to talk about? (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only your counselor reads this."),
    )
    consent = forms.BooleanField(
        label=_("I have read the consent text above and agree to online counseling."),
        error_messages={"required": _("Please read the consent text and agree to it.")},
    )

    def clean_slot(self) -> datetime.datetime:
        starts_at = slot_key_parse(self.cleaned_data["slot"])
        if starts_at is None:
            raise forms.ValidationError(_("Choose one of the times shown."))
        return starts_at


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Please give a reason.")},
    )


class LocalTimeForm(forms.Form):
    """A date and a time in the school's zone; `starts_at()` gives UTC."""

    date = forms.DateField(label=_("Date"), widget=DATE_INPUT, validators=SCHOOL_DATE_VALIDATORS)
    time = forms.TimeField(label=_("Time"), widget=TIME_INPUT)

    def __init__(self, *args, zone, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    def starts_at(self) -> datetime.datetime:
        return local_to_utc(self.cleaned_data["date"], self.cleaned_data["time"], self.zone)


class CounselorSessionForm(LocalTimeForm):
    """A counselor schedules a session with one of their clients."""

    student = forms.ModelChoiceField(label=_("Student"), queryset=None)
    minutes = forms.TypedChoiceField(
        label=_("Length"), choices=SessionLength.choices, coerce=int, initial=45
    )
    mode = forms.ChoiceField(label=_("Mode"), choices=CounselingSession.Mode.choices)
    field = forms.ChoiceField(label=_("Counseling field"), choices=CounselingSession.Field.choices)
    description = forms.CharField(
        label=_("Topic (optional)"),
        required=False,
        help_text=_("The student sees this. Keep private remarks out of it."),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    field_order = ["student", "date", "time", "minutes", "mode", "field", "description"]

    def __init__(self, *args, clients, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["student"].queryset = clients
        self.fields["student"].label_from_instance = lambda user: user.display_name


class AvailabilityForm(forms.ModelForm):
    class Meta:
        model = Availability
        fields = ["weekday", "start_time", "end_time", "session_minutes", "buffer_minutes"]
        widgets = {"start_time": TIME_INPUT, "end_time": TIME_INPUT}

    def __init__(self, *args, counselor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.counselor = counselor

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("start_time"), cleaned.get("end_time")
        minutes = cleaned.get("session_minutes")
        if start is None or end is None or minutes is None:
            return cleaned
        day = datetime.date(2000, 1, 3)
        span = datetime.datetime.combine(day, end) - datetime.datetime.combine(day, start)
        if span <= datetime.timedelta(0):
            raise forms.ValidationError(_("The window must end after it starts."))
        if span < datetime.timedelta(minutes=minutes):
            raise forms.ValidationError(_("The window is shorter than one session."))
        clashing = Availability.objects.filter(
            counselor=self.counselor,
            weekday=cleaned.get("weekday"),
            start_time__lt=end,
            end_time__gt=start,
        )
        if self.instance.pk:
            clashing = clashing.exclude(pk=self.instance.pk)
        if clashing.exists():
            raise forms.ValidationError(_("This window overlaps another window on that day."))
        return cleaned


class AvailabilityExceptionForm(forms.Form):
    """Block days or hours (leave, exam week), or open a one-off extra window."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=AvailabilityException.Kind.choices, widget=forms.RadioSelect
    )
    first_day = forms.DateField(
        label=_("From date"), widget=DATE_INPUT, validators=SCHOOL_DATE_VALIDATORS
    )
    last_day = forms.DateField(
        label=_("Until date"),
        validators=SCHOOL_DATE_VALIDATORS,
        required=False,
        widget=DATE_INPUT,
        help_text=_("Leave empty for one day."),
    )
    start_time = forms.TimeField(
        label=_("From time"),
        required=False,
        widget=TIME_INPUT,
        help_text=_("Leave both times empty to block whole days."),
    )
    end_time = forms.TimeField(label=_("Until time"), required=False, widget=TIME_INPUT)
    session_minutes = forms.TypedChoiceField(
        label=_("Session length (extra window)"),
        choices=SessionLength.choices,
        coerce=int,
        initial=45,
    )
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=200)

    def __init__(self, *args, zone, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean(self) -> dict:
        cleaned = super().clean()
        first, last = cleaned.get("first_day"), cleaned.get("last_day") or cleaned.get("first_day")
        start, end = cleaned.get("start_time"), cleaned.get("end_time")
        kind = cleaned.get("kind")
        if first is None or kind is None:
            return cleaned
        if last < first:
            raise forms.ValidationError(_("The last day is before the first day."))
        if (last - first).days > 366:
            raise forms.ValidationError(_("Choose at most one year."))
        if (start is None) != (end is None):
            raise forms.ValidationError(_("Give both times, or neither."))
        if kind == AvailabilityException.Kind.EXTRA:
            if start is None:
                raise forms.ValidationError(_("An extra window needs a start and an end time."))
            if last != first:
                raise forms.ValidationError(_("An extra window is on one day."))
        if start is not None and end <= start:
            raise forms.ValidationError(_("The end time must be after the start time."))
        if start is None:  # whole days, as one stretch
            cleaned["ranges"] = [
                (
                    local_to_utc(first, datetime.time(0), self.zone),
                    local_to_utc(last + datetime.timedelta(days=1), datetime.time(0), self.zone),
                )
            ]
        else:  # the same hours on each day
            days = [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]
            cleaned["ranges"] = [
                (local_to_utc(day, start, self.zone), local_to_utc(day, end, self.zone))
                for day in days
            ]
        return cleaned


class BookingPolicyForm(forms.ModelForm):
    class Meta:
        model = BookingPolicy
        fields = [
            "horizon_days",
            "min_notice_hours",
            "max_open_requests",
            "late_cancel_hours",
            "questionnaire_open_days",
            "consent_text",
        ]
        widgets = {"consent_text": forms.Textarea(attrs={"rows": 14})}


EmergencyContactFormSet = inlineformset_factory(
    School,
    EmergencyContact,
    fields=["name", "phone", "description", "position"],
    extra=2,
    can_delete=True,
    # A school lists a handful; a forged form count must not build thousands of forms.
    max_num=20,
    absolute_max=20,
    validate_max=True,
)


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Confidential note"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Only you can read this note. It is stored encrypted."),
    )


class OutcomeForm(forms.ModelForm):
    class Meta:
        model = SessionOutcome
        fields = ["kind", "referred_to", "referral_reason"]
        widgets = {
            "kind": forms.RadioSelect,
            "referral_reason": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"referred_to": _("For a referral: the counselor, expert or service.")}

    def clean(self):
        data = super().clean()
        if data.get("kind") == SessionOutcome.Kind.REFERRAL:
            if not (data.get("referred_to") or "").strip():
                self.add_error("referred_to", _("Say to whom the student is referred."))
            if not (data.get("referral_reason") or "").strip():
                self.add_error("referral_reason", _("Say why the student is referred."))
        return data
