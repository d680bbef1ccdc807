from django.urls import path

from sessions_app.views import counselor, room, school, session, student

app_name = "sessions"

urlpatterns = [
    # Student
    path("book/", student.book, name="book"),
    path("mine/", student.my_sessions, name="my-sessions"),
    # Counselor
    path("schedule/", counselor.schedule, name="schedule"),
    path("availability/", counselor.availability, name="availability"),
    path(
        "availability/<slug:kind>/<int:item_id>/delete/",
        counselor.availability_delete,
        name="availability-delete",
    ),
    path("new/", counselor.session_create, name="session-create"),
    # Both sides of one session
    path("<int:session_id>/", session.session_detail, name="session-detail"),
    path("<int:session_id>/calendar.ics", session.session_calendar, name="session-calendar"),
    path("<int:session_id>/room/", room.room, name="room"),
    path("<int:session_id>/room/note/", room.room_note, name="room-note"),
    path("<int:session_id>/room/outcome/", room.room_outcome, name="room-outcome"),
    path("<int:session_id>/transcript/", room.transcript, name="transcript"),
    path("<int:session_id>/<slug:action>/", session.session_action, name="session-action"),
    # School admin
    path("school/settings/", school.booking_settings, name="booking-settings"),
    path("school/statistics/", school.session_statistics, name="statistics"),
]
