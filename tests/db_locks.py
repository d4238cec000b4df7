"""Holding PostgreSQL locks from the side, to put concurrent requests in a chosen order."""

import time


def sessions_waiting_on_a_lock(watcher, count: int = 1, *, query_like: str = "%") -> list[int]:
    """The process ids of the database sessions stuck behind a lock whose statement matches
    ``query_like``, once there are ``count`` of them (``watcher``: a raw autocommit
    connection). The pattern keeps out any other session that happens to wait meanwhile,
    such as a Celery worker left running by another test."""
    deadline = time.monotonic() + 30
    with watcher.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE %s ORDER BY pid",
                [query_like],
            )
            if len(pids := [row[0] for row in cursor.fetchall()]) >= count:
                return pids
            time.sleep(0.05)
        cursor.execute(
            "SELECT query FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        waiting = [row[0] for row in cursor.fetchall()]
    raise AssertionError(f"fewer than {count} sessions matching {query_like!r}: {waiting}")


def raw_connections(connection, count: int) -> list:
    """New connections to the test database, outside Django's, each its own session."""
    params = connection.get_connection_params()
    return [connection.get_new_connection(params) for _ in range(count)]
