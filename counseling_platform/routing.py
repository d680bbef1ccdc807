"""Websocket routes of every app, gathered for counseling_platform.asgi."""

# Apps add their routes here as they gain consumers (the session room: sessions_app).
websocket_urlpatterns: list = []
