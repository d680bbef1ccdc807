from django import forms
from django.utils.translation import gettext_lazy as _

from counseling_platform.validators import SCHOOL_DATE_VALIDATORS
from instruments.definitions import Instrument, all_instruments
from instruments.models import Administration
from instruments.services import MAX_SCHEDULED

ANSWER_REQUIRED = _("Choose an answer for this question.")


class QuestionnaireForm(forms.Form):
    """One field per item: a radio group on the instrument's scale, or free text."""

    def __init__(self, *args, instrument: Instrument, counselor_name: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        choices = [(str(point), str(label)) for point, label in instrument.scale_labels]
        for item in instrument.items:
            label = item.text_for(counselor_name)
            if item.is_choice:
                field = forms.TypedChoiceField(
                    label=label,
                    choices=choices,
                    coerce=int,
                    widget=forms.RadioSelect(attrs={"class": "btn-check"}),
                    error_messages={"required": ANSWER_REQUIRED},
                )
            else:
                field = forms.CharField(
                    label=label,
                    required=item.required,
                    max_length=2000,
                    widget=forms.Textarea(attrs={"rows": 3}),
                )
            field.item = item
            self.fields[f"item_{item.number}"] = field

    def answers(self) -> dict[int, int | str]:
        return {
            field.item.number: self.cleaned_data[name]
            for name, field in self.fields.items()
            if self.cleaned_data.get(name) not in (None, "")
        }

    @property
    def answered_count(self) -> int:
        """Scale items with an answer in the submitted data (for the progress bar)."""
        if not self.is_bound:
            return 0
        return sum(
            1 for name, field in self.fields.items() if field.item.is_choice and self.data.get(name)
        )

    def items(self):
        """(item, bound field, position, number of items) for the template."""
        total = len(self.instrument.items)
        return [
            (field.item, self[name], field.item.number, total)
            for name, field in self.fields.items()
        ]


def _instrument_choices() -> list[tuple[str, str]]:
    return [
        (instrument.code, str(instrument.short_name))
        for instrument in all_instruments()
        if not instrument.is_optional
    ]


class ScheduleForm(forms.Form):
    instrument = forms.ChoiceField(label=_("Questionnaire"), choices=_instrument_choices)
    phase = forms.ChoiceField(
        label=_("Phase"),
        choices=[
            (Administration.Phase.BASELINE, Administration.Phase.BASELINE.label),
            (Administration.Phase.FOLLOW_UP, Administration.Phase.FOLLOW_UP.label),
        ],
    )
    first_date = forms.DateField(
        label=_("First date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=SCHOOL_DATE_VALIDATORS,
    )
    count = forms.IntegerField(
        label=_("Number of occasions"), min_value=1, max_value=MAX_SCHEDULED, initial=3
    )
    interval_days = forms.IntegerField(
        label=_("Days between occasions"), min_value=1, max_value=60, initial=7
    )
    open_days = forms.IntegerField(
        label=_("Open for (days)"),
        min_value=1,
        max_value=30,
        initial=3,
        help_text=_(
            "Each questionnaire opens at 06:00 on its day and closes this many days later."
        ),
    )


class VoidForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this response voided?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the response. The student can answer again while it is open."),
    )


class HistoryUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))
