"""The student's own anxiety trend, when their counselor has chosen to share it."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.permissions import student_required
from analytics.figures import trend_figure
from analytics.selectors import student_shared_anxiety
from audit.services import ReadKind, record_read


@student_required
def my_anxiety(request: HttpRequest) -> HttpResponse:
    anxiety = student_shared_anxiety(student=request.user)
    if anxiety:
        record_read(request, student=request.user, what=ReadKind.OWN_ANXIETY)
    chart = (
        trend_figure(
            anxiety,
            request.user.school.zone(),
            title=_("My math anxiety (AMAS)"),
            for_student=True,
        )
        if anxiety
        else None
    )
    latest = anxiety.points[-1] if anxiety else None
    return render(request, "analytics/my_anxiety.html", {"chart": chart, "latest": latest})
