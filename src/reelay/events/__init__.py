"""Live job events: who wants to hear that a video changed, and how they hear it.

- ``hub``: the in-process fan-out (an ``asyncio`` wake-up per subscriber), fed by the job store's
  ``on_change`` hook. Enough for the embedded mode, where the API and the workers share a process.
- ``postgres``: the scale-out mode. Each process sends ``NOTIFY`` for the changes its store commits
  and keeps one ``LISTEN`` connection that feeds its local hub, so a client streaming from an API
  process hears a job that a ``reelay worker`` process runs, with no database poll per client.
- ``sse``: the Server-Sent Events wire format.

Subscribers are told only *that* a job changed; they re-read it, so a coalesced or duplicate
wake-up can never show a client a stale or out-of-order state.
"""

from reelay.events.hub import LocalEventHub, Subscription, build_event_hub

__all__ = ["LocalEventHub", "Subscription", "build_event_hub"]
