"""Django's Redis cache backend, reusing one Redis client per connection pool, and with an
atomic ``incr``.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache call, and
each one sets up its ~170 response callbacks: about a third of a millisecond here, more than
the round trip itself. A ``redis.Redis`` is safe to share between threads (it takes a pooled
connection per command) and after a fork (its pool notices the new process id and opens new
connections), so one per pool does the same work. The form posts' rate limits and
double-submission guard make several cache calls each (docs/performance.md).
"""

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

# Django's incr asks EXISTS, then INCRBY: two round trips, and if the key expires in between,
# INCRBY makes it again with no expiry, so a rate-limit counter would never reset. One script
# does both at once.
_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._incr_existing: Any = None

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # kept for the process's life, so its id too
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def incr(self, key: Any, delta: int) -> int:
        client = self.get_client(key, write=True)
        if self._incr_existing is None:
            self._incr_existing = client.register_script(_INCR_EXISTING)
        value = self._incr_existing(keys=[key], args=[delta], client=client)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class ReusingRedisCache(RedisCache):
    def __init__(self, server: str, params: dict) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
