"""The archive's files about questionnaires: every one sent to the student, the answers
given and the scores computed from them."""

import datetime

from django.utils.translation import gettext as _

from instruments.definitions import Instrument
from instruments.models import Administration, Response
from privacy.archive.table import Table, local_time
from privacy.selectors import PersonalData


def _item_text(instrument: Instrument | None, number: int, counselor_name: str) -> str:
    if instrument is None:
        return ""
    item = next((item for item in instrument.items if item.number == number), None)
    return item.text_for(counselor_name) if item else ""


def _answer_label(instrument: Instrument | None, value: int | str) -> str:
    if instrument is None or not isinstance(value, int):
        return str(value)
    label = dict(instrument.scale_labels).get(value)
    return str(label) if label else ""


def _instrument_name(administration: Administration) -> str:
    instrument = administration.instrument
    return str(instrument.short_name) if instrument else administration.instrument_code


def _phase(administration: Administration) -> str:
    return str(Administration.Phase(administration.phase).label)


def questionnaires_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("number", _("Number")),
        ("questionnaire", _("Questionnaire")),
        ("phase", _("Phase")),
        ("session", _("Session number")),
        ("sent_by", _("Sent by")),
        ("opens_at", _("Opens")),
        ("closes_at", _("Closes")),
        ("status", _("Status")),
        ("skipped_at", _("Skipped by you")),
        ("cancelled_at", _("Cancelled by the counselor")),
        ("response", _("Response number")),
    ]
    rows = []
    for administration in data.administrations:
        response = administration.live_response
        status = administration.status_at(data.read_at)
        rows.append(
            {
                "number": administration.pk,
                "questionnaire": _instrument_name(administration),
                "phase": _phase(administration),
                "session": administration.session_id,
                "sent_by": administration.counselor.display_name,
                "opens_at": local_time(administration.opens_at, zone),
                "closes_at": local_time(administration.closes_at, zone),
                "status": str(Administration.Status(status).label),
                "skipped_at": local_time(administration.skipped_at, zone),
                "cancelled_at": local_time(administration.cancelled_at, zone),
                "response": response.pk if response else None,
            }
        )
    return Table("questionnaires", columns, rows)


def answers_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("response", _("Response number")),
        ("submitted_at", _("Answered")),
        ("questionnaire", _("Questionnaire")),
        ("phase", _("Phase")),
        ("item", _("Question number")),
        ("question", _("Question")),
        ("answer", _("Answer")),
        ("answer_label", _("Answer in words")),
        ("voided", _("Set aside by the counselor")),
    ]
    rows = []
    for response in data.responses:
        administration = response.administration
        instrument = administration.instrument
        counselor_name = administration.counselor.display_name
        for number, value in sorted(response.answers.items(), key=lambda item: int(item[0])):
            rows.append(
                {
                    "response": response.pk,
                    "submitted_at": local_time(response.submitted_at, zone),
                    "questionnaire": _instrument_name(administration),
                    "phase": _phase(administration),
                    "item": int(number),
                    "question": _item_text(instrument, int(number), counselor_name),
                    "answer": value,
                    "answer_label": _answer_label(instrument, value),
                    "voided": response.is_voided,
                }
            )
    return Table("questionnaire_answers", columns, rows)


def _subscales(instrument: Instrument | None, response: Response) -> str:
    subscales = instrument.subscales if instrument else ()
    names = {subscale.code: str(subscale.name) for subscale in subscales}
    return "; ".join(
        f"{names.get(code, code)} {score}" for code, score in response.subscale_scores.items()
    )


def _band(instrument: Instrument | None, response: Response) -> str:
    band = instrument.band(response.band) if instrument and response.band else None
    return str(band.label) if band else response.band


def scores_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("response", _("Response number")),
        ("submitted_at", _("Answered")),
        ("questionnaire", _("Questionnaire")),
        ("phase", _("Phase")),
        ("session", _("Session number")),
        ("total", _("Total score")),
        ("band", _("Category")),
        ("subscales", _("Subscale scores")),
        ("imported", _("Recorded by the counselor from an earlier measurement")),
        ("voided", _("Set aside by the counselor")),
    ]
    rows = []
    for response in data.responses:
        administration = response.administration
        instrument = administration.instrument
        rows.append(
            {
                "response": response.pk,
                "submitted_at": local_time(response.submitted_at, zone),
                "questionnaire": _instrument_name(administration),
                "phase": _phase(administration),
                "session": administration.session_id,
                "total": response.total,
                "band": _band(instrument, response),
                "subscales": _subscales(instrument, response),
                "imported": response.is_imported,
                "voided": response.is_voided,
            }
        )
    return Table("questionnaire_scores", columns, rows)
