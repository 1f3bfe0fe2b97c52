"""gunicorn settings for `make serve` (`gunicorn -c app/gunicorn_conf.py`): workers that outlive a photo sent over 2G.

gunicorn's default sync worker handles one request at a time and is killed when it has not checked in for `timeout`
seconds (30), even while it is only reading a slow request body: a 250 KB photo at 8 KB/s took 31 s and never arrived.
A gthread worker reads bodies in its threads while its main loop keeps checking in, so a slow upload is never killed,
and a few slow phones no longer hold every worker. `timeout` then only catches a worker that is truly stuck.
"""
import os

worker_class = "gthread"
workers = int(os.environ.get("WORKERS", "3"))   # about 2 × cores + 1
threads = int(os.environ.get("THREADS", "4"))   # requests per worker at once: mostly waiting on phones and the database
timeout = 120          # a worker silent this long is stuck, not busy: restart it
graceful_timeout = 60  # on restart, let uploads in flight finish
keepalive = 5          # a phone syncing a batch reuses its connection
