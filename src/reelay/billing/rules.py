"""What a finished job costs: one pure function of the job and its card's billing rules.

The contract (docs/billing.md):
- completed: the provider's reported cost where it reports one (per run), else the card's price per
  second at the job's tier x the seconds actually delivered (summed over the n outputs);
- never reached a provider (refused, expired, cancelled while queued): released in full;
- failed with an upstream server error or Reelay's own failure: released in full;
- refused by moderation, failed otherwise, cancelled while running: the hold is kept when the card
  says the provider bills it, else released.
"""

from __future__ import annotations

from reelay.billing.ledger import Ending
from reelay.catalog import BillingRules, ModelCard
from reelay.jobs.models import JobStatus, VideoJob
from reelay.jobs.spec import VideoOutput

# Failures the provider does not bill: its servers failed, or the request never became a generation
# there, or Reelay itself failed (the operator carries that, not the key owner).
NOT_BILLED = frozenset(
    {
        "upstream_unavailable",
        "upstream_unreachable",
        "upstream_rate_limited",
        "upstream_malformed",
        "upstream_failed",
        "upstream_auth_failed",
        "upstream_rejected",
        "upstream_aborted",  # Replicate: past its Cancel-After deadline before it started (not charged)
        "input_not_hostable",
        "upstream_lost",
        "all_providers_exhausted",
        "unsupported_parameter",
        "unsupported_operation",
        "input_missing",
        "input_too_large",
        "internal_error",
        "render_failed",
        "render_crashed",
        "fetch_failed",
        "fetch_timeout",
        "url_not_allowed",
    }
)
MODERATED = "content_policy_violation"


def reached_provider(job: VideoJob) -> bool:
    """True once any run of the job was accepted by a provider (its submission time is stored)."""
    return any(run.submitted_at for run in job.runs)


def decide(job: VideoJob, card: ModelCard | None) -> Ending:
    """How ``job``'s hold ends. ``card`` is its model's card (None: the model left the catalog)."""
    rules = card.billing if card is not None else BillingRules()
    if job.status is JobStatus.COMPLETED:
        return _completed(job, card)
    if job.status is JobStatus.EXPIRED:
        return _release("expired before any provider started it: not charged")
    if not reached_provider(job):
        what = "cancelled" if job.status is JobStatus.CANCELLED else "failed"
        return _release(f"{what} before the provider started it: not charged")
    if job.status is JobStatus.CANCELLED:
        return _kept(job, "cancelled while running", rules.cancelled_running)
    code = job.error_code or ""
    if code == MODERATED:
        return _kept(job, "refused by the provider's moderation", rules.moderated)
    if code in NOT_BILLED:
        return _release(f"failed ({code}): an upstream server error or Reelay's own failure is not charged")
    return _kept(job, f"failed ({code or 'unknown'})", rules.failed)


def _release(reason: str) -> Ending:
    return Ending(settle=False, amount=0.0, basis="none", reason=reason)


def _kept(job: VideoJob, what: str, billed: bool) -> Ending:
    if billed:
        return Ending(True, job.cost_estimate, "hold", f"{what}: the provider bills this, so the estimate is kept")
    return _release(f"{what}: the provider does not bill this")


def _completed(job: VideoJob, card: ModelCard | None) -> Ending:
    """Per run: the provider's reported cost, else price per second x seconds its outputs delivered."""
    per_second = _price_per_second(job, card)
    input_seconds = (job.spec.input_seconds or 0.0) if job.spec.operation == "extend" else 0.0
    runs = [run for run in job.runs if run.outputs]
    total, reported = 0.0, 0
    for run in runs:
        if run.reported_cost_usd is not None:
            total += run.reported_cost_usd
            reported += 1
        else:
            total += per_second * sum(delivered_seconds(output, input_seconds) for output in run.outputs)
    if not runs:  # outputs recorded on the job only (rows written before runs kept them)
        total = per_second * sum(delivered_seconds(output, input_seconds) for output in job.outputs)
    if runs and reported == len(runs):
        return Ending(True, round(total, 10), "reported", "completed: the provider's reported cost")
    basis = "computed" if not reported else "mixed"
    return Ending(True, round(total, 10), basis, "completed: price per second x seconds delivered")


def delivered_seconds(output: VideoOutput, input_seconds: float) -> float:
    """Seconds the provider generated for one output (an extension's joined clip minus its input)."""
    return max(0.0, output.seconds - input_seconds)


def _price_per_second(job: VideoJob, card: ModelCard | None) -> float:
    tier = job.spec.resolution
    if card is not None and tier is not None and tier in card.tiers:
        return card.price_for(tier)
    if card is not None:
        return card.price_per_second
    seconds = job.spec.seconds * max(1, job.n)
    return job.cost_estimate / seconds if seconds else 0.0
