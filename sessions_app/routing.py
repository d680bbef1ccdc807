from django.urls import path

from sessions_app.consumers import RoomConsumer

websocket_urlpatterns = [
    path("ws/sessions/<int:session_id>/room/", RoomConsumer.as_asgi()),
]
