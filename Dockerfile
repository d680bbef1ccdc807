# RuangBK web image: daphne serving HTTP and websockets. See docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files (Bootstrap included) are collected into the image: nothing from a CDN.
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=only-for-collectstatic-not-used-at-runtime \
    python manage.py collectstatic --noinput --verbosity 0 \
 && useradd --system --home-dir /app ruangbk \
 && chown -R ruangbk /app
USER ruangbk

EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py rescore_responses && exec daphne --bind 0.0.0.0 --port 8000 --proxy-headers --websocket-max-message-size 131072 --websocket-max-frame-size 131072 counseling_platform.asgi:application"]
