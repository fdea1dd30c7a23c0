"""Conversation state in Redis (GUICHET_REDIS_URL): aiogram's RedisStorage plus the ``put`` and
``advance`` that ``bot.storage`` adds. Imported only when Redis is configured, because ``redis``
is an optional extra."""

from __future__ import annotations

from typing import Any, cast

from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, StorageKey

try:
    from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
except ImportError as missing:  # pragma: no cover - depends on the install
    raise RuntimeError(
        "GUICHET_REDIS_URL is set but the redis package is not installed: "
        "pip install -e '.[redis]' (or unset GUICHET_REDIS_URL to keep conversations in SQL)"
    ) from missing

from bot.storage import KEYS, REDIS_TTL

# KEYS[1] is the state key: set it to ARGV[2] only if it holds ARGV[1] (atomic in Redis).
_ADVANCE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[2] == '' then redis.call('DEL', KEYS[1])
  else redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
  return 1
end
return 0
"""


class GuichetRedisStorage(RedisStorage):
    async def put(self, key: StorageKey, state: str | None, data: dict[str, Any]) -> None:
        state_key, data_key = KEYS.build(key, "state"), KEYS.build(key, "data")
        async with self.redis.pipeline(transaction=True) as pipe:
            if state is None:
                pipe.delete(state_key)
            else:
                pipe.set(state_key, state, ex=self.state_ttl)
            if data:
                pipe.set(data_key, self.json_dumps(data), ex=self.data_ttl)
            else:
                pipe.delete(data_key)
            await pipe.execute()

    async def advance(self, key: StorageKey, expected: str, to: str | None) -> bool:
        ttl = int(REDIS_TTL.total_seconds())
        done = await cast(Any, self.redis).eval(
            _ADVANCE, 1, KEYS.build(key, "state"), expected, to or "", ttl
        )
        return bool(done)


def build_redis_storage(redis_url: str) -> tuple[BaseStorage, BaseEventIsolation]:
    ttl = int(REDIS_TTL.total_seconds())
    storage = GuichetRedisStorage.from_url(redis_url, key_builder=KEYS, state_ttl=ttl, data_ttl=ttl)
    isolation = RedisEventIsolation(redis=storage.redis, key_builder=KEYS)
    return storage, isolation
