"""The shared cache (config/cache.py) against the real Redis the tests run with: the rate
limits and the double-submission guard depend on its add and incr."""

import multiprocessing
import uuid

import pytest
from django.core.cache import cache, caches


def key() -> str:
    return f"test-cache-{uuid.uuid4().hex}"


def test_the_tests_use_the_redis_cache_the_site_runs_with():
    assert type(caches["default"]).__name__ == "ReusingRedisCache"


def test_incr_counts_up_and_keeps_the_expiry():
    counter = key()
    cache.add(counter, 1, timeout=60)

    assert cache.incr(counter) == 2
    assert cache.incr(counter, 5) == 7
    assert cache.get(counter) == 7
    client = cache._cache.get_client(write=True)
    assert 0 < client.ttl(cache.make_and_validate_key(counter)) <= 60


def test_incr_of_a_missing_key_raises_and_creates_nothing():
    missing = key()

    with pytest.raises(ValueError, match="not found"):
        cache.incr(missing)

    assert cache.get(missing) is None
    assert not cache._cache.get_client().exists(cache.make_and_validate_key(missing))


def _use_cache_in_child(name: str, queue) -> None:
    cache.set(name, "from the child", timeout=60)
    queue.put(cache.get(name))


def test_the_reused_client_works_in_a_forked_process_and_after():
    name = key()
    cache.set(name, "from the parent", timeout=60)  # the parent's connection is open
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_use_cache_in_child, args=(name + "-child", queue))
    child.start()
    child.join(timeout=20)

    assert child.exitcode == 0
    assert queue.get(timeout=5) == "from the child"
    assert cache.get(name) == "from the parent"
    assert cache.get(name + "-child") == "from the child"
