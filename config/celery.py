import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The worker writes this every HEARTBEAT_SECONDS (scheduled by beat); /healthz reads it, so a
# fresh value shows beat, the broker and a worker are all running.
HEARTBEAT_KEY = "worker:heartbeat"
HEARTBEAT_SECONDS = 30
HEARTBEAT_MAX_AGE = 4 * HEARTBEAT_SECONDS


@app.task(name="config.heartbeat", ignore_result=True)
def heartbeat() -> None:
    import time

    from django.core.cache import cache

    cache.set(HEARTBEAT_KEY, time.time(), timeout=HEARTBEAT_MAX_AGE * 2)
