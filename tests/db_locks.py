"""Holding PostgreSQL locks from the side, to put concurrent requests in a chosen order."""

import time


def sessions_waiting_on_a_lock(watcher, count: int = 1) -> list[int]:
    """The process ids of the database sessions stuck behind a lock, once there are ``count``
    of them (``watcher`` is a raw connection in autocommit)."""
    deadline = time.monotonic() + 30
    with watcher.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock' ORDER BY pid"
            )
            if len(pids := [row[0] for row in cursor.fetchall()]) >= count:
                return pids
            time.sleep(0.05)
    raise AssertionError(f"fewer than {count} sessions reached the lock")


def raw_connections(connection, count: int) -> list:
    """New connections to the test database, outside Django's, each its own session."""
    params = connection.get_connection_params()
    return [connection.get_new_connection(params) for _ in range(count)]
