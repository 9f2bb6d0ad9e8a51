"""Money: a hold per job at submit, settled at the real cost or released when it ends, exactly once.

- ``models``: the ``billing_ledger`` table (one row per job; migration 0004).
- ``ledger``: ``Ledger`` — hold (inside the job's insert transaction), settle, release; each a guarded
  single-statement ``UPDATE … WHERE state = 'held'``, so a transition happens once under any number
  of concurrent workers and after a crash.
- ``rules``: what a finished job costs (``decide``), from the job and its card's billing rules.
- ``listener``: ``BillingListener``, the ``JobListener`` that settles, and its reconciliation sweep.
- ``usage``: spend, holds and refunds grouped by key, model, provider and day.
- ``deadline``: whether a job's ``deadline_seconds`` passed before it reached a provider.

Nothing here imports ``reelay.api``; the API and the worker call in.
"""
