"""The in-process fan-out of "job X changed" wake-ups, and the choice of hub for a database."""

from __future__ import annotations

import asyncio


class Subscription:
    """One listener's wake-up for one job. Several changes before it wakes count as one."""

    def __init__(self, video_id: str, hub: LocalEventHub) -> None:
        self.video_id = video_id
        self._wake = asyncio.Event()
        self._hub = hub

    def close(self) -> None:
        """Stop listening (idempotent)."""
        self._hub.unsubscribe(self)

    def notify(self) -> None:
        self._wake.set()

    async def wait(self, timeout: float) -> bool:
        """True if the job (may have) changed since the last wait; False after ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            return False
        self._wake.clear()
        return True


class LocalEventHub:
    """Wakes this process's subscribers. Every method is called on the event loop's thread.

    The base of every hub: ``changed`` is what the store calls, ``subscribe`` what a stream uses."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}

    def changed(self, video_id: str) -> None:
        self.deliver(video_id)

    def deliver(self, video_id: str) -> None:
        for subscription in self._subscribers.get(video_id, ()):
            subscription.notify()

    def deliver_all(self) -> None:
        """Wake everyone to re-read (after a gap in which changes may have been missed)."""
        for subscriptions in self._subscribers.values():
            for subscription in subscriptions:
                subscription.notify()

    def subscribe(self, video_id: str) -> Subscription:
        """Start listening for changes to this job; ``close()`` the subscription when done."""
        subscription = Subscription(video_id, self)
        self._subscribers.setdefault(video_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        remaining = self._subscribers.get(subscription.video_id)
        if remaining is not None:
            remaining.discard(subscription)
            if not remaining:
                del self._subscribers[subscription.video_id]

    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def build_event_hub(database_url: str) -> LocalEventHub:
    """In-process for SQLite (API and workers share the process); LISTEN/NOTIFY for PostgreSQL,
    where workers may run in other processes. psycopg is imported only in the second case."""
    if database_url.startswith("postgresql"):
        from reelay.events.postgres import PostgresEventHub

        return PostgresEventHub(database_url)
    return LocalEventHub()
