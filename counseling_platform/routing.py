"""Websocket routes of every app, gathered for counseling_platform.asgi."""

from sessions_app.routing import websocket_urlpatterns as session_room_urlpatterns

websocket_urlpatterns = [*session_room_urlpatterns]
