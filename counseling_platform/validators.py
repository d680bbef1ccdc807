"""Validators shared by the apps' forms."""

import datetime

from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

EARLIEST_DATE = datetime.date(2000, 1, 1)
LATEST_DATE = datetime.date(2100, 12, 31)

# A date a school's counseling could be about: 0001-01-01 or 9999-12-31 would overflow
# the conversion to UTC (and mean nothing here).
SCHOOL_DATE_VALIDATORS = [
    MinValueValidator(EARLIEST_DATE, _("Choose a date from the year 2000 on.")),
    MaxValueValidator(LATEST_DATE, _("Choose a date before the year 2101.")),
]
