"""gunicorn settings for the web process (deploy/systemd/spinal-clinic-web.service and
deploy/Procfile run ``gunicorn -c deploy/gunicorn.conf.py config.wsgi``).

nginx sits in front (deploy/nginx/), buffers slow clients and serves static files and cached
pages itself, so gunicorn's workers (gthread: processes with threads, below) only ever talk to
nginx over loopback.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# A page view is about a millisecond of CPU; a form post ~15 ms plus its waits on PostgreSQL
# and Redis. Threads let a process take other requests during those waits, and keep nginx's
# upstream connections alive (the sync worker closes every connection). Each thread holds its
# own database connection: workers x threads of them.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
keepalive = 5
timeout = 30
graceful_timeout = 20
# Recycle a worker now and then, with jitter so they do not restart together. Rarely: a
# restart costs a second of CPU to boot Django, and at the 5,000 first tried, a busy minute
# restarted every worker at once (the benchmark saw seconds with no answers).
max_requests = 100_000
max_requests_jitter = 10_000
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
# The path without its query string, and no referrer: searches (/search/?q=, and staff's by
# name or phone in admin) must not land in a log beside the visitor's address.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s "%(a)s" %(M)sms'
errorlog = "-"
loglevel = "warning"
forwarded_allow_ips = "127.0.0.1"
# gunicorn 27 otherwise opens a control socket at one fixed path per user, shared by every
# gunicorn that user runs; systemd's reload (HUP) is all this site needs.
control_socket_disable = True


def post_worker_init(worker) -> None:
    """Keep the garbage collector off everything loaded at start (Django, the URLconf and
    every view module): frozen, a full collection walks only what requests made since. Left
    to walk it all, one took 200-400 ms here, and every request in that worker waited."""
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (import the views now, not on the first request)
    gc.freeze()
