"""A double click while the first save is still in PostgreSQL: the second click must never be
told "sent" for a request that was not kept. Real parts: PostgreSQL (a table lock holds the
first save), Redis (the double-click guard), a Celery worker process and an SMTP server."""

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait

import pytest
from django.db import connection
from django.test import Client

from leads.models import ReportRequest
from tests.db_locks import raw_connections, sessions_waiting_on_a_lock
from tests.integration.test_delivery import wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REPORT_URL = "/factsheets/spinal-metastases/report/"
INSERT = 'INSERT INTO "leads_reportrequest"%'  # a post saving its row, and nothing else


@pytest.mark.parametrize(
    ("first_save", "wait", "statuses", "rows"),
    [
        ("fails", 30, (500, 302), 1),  # the second click is the one saved
        ("goes through", 30, (302, 302), 1),  # the second click is its repeat
        ("takes too long", 1, (302, 302), 2),  # both saved: two rows are better than none
    ],
)
def test_a_double_click_waits_for_the_first_save_and_never_confirms_a_lost_one(
    shipped_sheets, valid_report, settings, worker, smtp, first_save, wait, statuses, rows
):
    """The second click must not be told "sent" while the first is still being saved, in
    case that save fails; it learns how the first save went and acts on that."""
    settings.DUPLICATE_PENDING_WAIT = wait
    locker, watcher = raw_connections(connection, 2)
    watcher.autocommit = True
    with locker.cursor() as cursor:  # holds every insert until the test lets go
        cursor.execute("LOCK TABLE leads_reportrequest IN ACCESS EXCLUSIVE MODE")

    def post():
        try:
            return Client(raise_request_exception=False).post(REPORT_URL, valid_report)
        finally:
            connection.close()  # this thread's own database connection

    pool = ThreadPoolExecutor(max_workers=2)
    try:
        first = pool.submit(post)
        [first_session] = sessions_waiting_on_a_lock(watcher, query_like=INSERT)
        second = pool.submit(post)

        done, _ = futures_wait([second], timeout=1)
        assert not done, "the second click was answered while the first was being saved"

        if first_save == "fails":  # its connection drops, as if the database went away
            with watcher.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [first_session])
            first.result(timeout=30)
        elif first_save == "takes too long":
            sessions_waiting_on_a_lock(watcher, count=2, query_like=INSERT)  # both saving
        locker.rollback()  # the table is free again: what is waiting goes through
        assert (first.result(timeout=30).status_code, second.result(timeout=30).status_code) == (
            statuses
        )
    finally:
        locker.close()  # lets go of the table whatever happened, so no post is left waiting
        pool.shutdown()
        watcher.close()

    # What the patient sees: one report for each request kept, none for the lost save.
    assert len(smtp.wait_for(rows)) == rows
    saved = ReportRequest.objects.all()
    assert saved.count() == rows
    for request in saved:  # the worker is done with each row before the test ends
        assert wait_for_status(ReportRequest, request.pk, "sent").status == "sent"
