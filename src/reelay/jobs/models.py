"""The job: its database row, its states, and the typed object the rest of the code sees.

Only ``jobs.store`` touches ``VideoRow``; everything else receives a frozen ``VideoJob``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, Row, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reelay.database import Base
from reelay.jobs.spec import JobSpec, RunRecord, VideoOutput, dump_runs, load_runs


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # its deadline_seconds passed before any provider started it (never charged)

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED)


UNFINISHED = (JobStatus.QUEUED.value, JobStatus.IN_PROGRESS.value)


class Stage(enum.StrEnum):
    """Where an unfinished job is in the pipeline, and so who acts on it next.

    - ``submit``: to be sent upstream (the intake lane: I/O, no CPU slot).
    - ``wait``: every run is upstream; the relay polls it when ``due_at`` comes (no slot, no task).
    - ``render``: runs on a non-resumable provider (the local engine) in a CPU slot, start to end.
    - ``collect``: every run finished upstream; download, probe, thumbnails, store (a CPU slot).

    ``due_at`` is when the job next needs attention: the next poll (``wait``), or, for the other
    stages, when a retry or a provider limit lets it go back to a worker (None: it is with one now).
    """

    SUBMIT = "submit"
    WAIT = "wait"
    RENDER = "render"
    COLLECT = "collect"


class VideoRow(Base):
    __tablename__ = "videos"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    prompt: Mapped[str] = mapped_column(Text)
    size: Mapped[str] = mapped_column(String(32))
    seconds: Mapped[str] = mapped_column(String(16))
    n: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float | None] = mapped_column(Float)
    completed_at: Mapped[float | None] = mapped_column(Float)
    expires_at: Mapped[float | None] = mapped_column(Float)
    remixed_from_video_id: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(64))
    executed_model: Mapped[str] = mapped_column(String(128))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    report: Mapped[list[Any]] = mapped_column(JSON)
    runs: Mapped[list[Any]] = mapped_column(JSON)
    outputs: Mapped[list[Any]] = mapped_column(JSON)
    cost_estimate: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[float | None] = mapped_column(Float)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    stage: Mapped[str] = mapped_column(String(16), default=Stage.SUBMIT.value)
    due_at: Mapped[float | None] = mapped_column(Float)
    status_detail: Mapped[str | None] = mapped_column(Text)  # why a queued job waits (a provider limit)

    __table_args__ = (
        Index("ix_videos_owner_created", "owner", "created_at"),
        Index("ix_videos_status", "status"),
        Index("ix_videos_expires_at", "expires_at"),
        Index("ix_videos_stage_due", "stage", "due_at"),
        Index("ix_videos_stage_provider", "stage", "provider"),
    )


@dataclass(frozen=True)
class VideoJob:
    id: str
    owner: str | None
    model: str
    status: JobStatus
    progress: int
    prompt: str
    size: str
    seconds: str
    n: int
    created_at: float
    completed_at: float | None
    expires_at: float | None
    remixed_from_video_id: str | None
    error_code: str | None
    error_message: str | None
    provider: str
    executed_model: str
    spec: JobSpec
    report: list[Any]
    runs: tuple[RunRecord, ...]
    outputs: tuple[VideoOutput, ...]
    cost_estimate: float
    attempts: int
    cancel_requested: bool
    started_at: float | None = None
    lease_owner: str | None = None
    lease_expires_at: float | None = None
    stage: Stage = Stage.SUBMIT
    due_at: float | None = None
    status_detail: str | None = None

    @classmethod
    def from_row(cls, row: VideoRow | Row[Any]) -> VideoJob:
        """From an ORM row or a Core row of the videos table (same attribute names)."""
        return cls(
            id=row.id,
            owner=row.owner,
            model=row.model,
            status=JobStatus(row.status),
            progress=row.progress,
            prompt=row.prompt,
            size=row.size,
            seconds=row.seconds,
            n=row.n,
            created_at=row.created_at,
            completed_at=row.completed_at,
            expires_at=row.expires_at,
            remixed_from_video_id=row.remixed_from_video_id,
            error_code=row.error_code,
            error_message=row.error_message,
            provider=row.provider,
            executed_model=row.executed_model,
            spec=JobSpec.model_validate(row.request or {}),
            report=list(row.report or []),
            runs=tuple(RunRecord.model_validate(r) for r in (row.runs or [])),
            outputs=tuple(VideoOutput(**o) for o in (row.outputs or [])),
            cost_estimate=row.cost_estimate,
            attempts=row.attempts,
            cancel_requested=row.cancel_requested,
            started_at=row.started_at,
            lease_owner=row.lease_owner,
            lease_expires_at=row.lease_expires_at,
            stage=Stage(row.stage or Stage.SUBMIT.value),
            due_at=row.due_at,
            status_detail=row.status_detail,
        )

    def fresh_runs(self) -> list[RunRecord]:
        """Mutable copies of the stored runs (or the job's first runs, before it has any)."""
        return load_runs([run.to_json() for run in self.runs], self.spec.run_count)


@dataclass(frozen=True)
class NewJob:
    """Everything needed to create a job row; the store fills in times and status."""

    id: str
    owner: str | None
    model: str
    prompt: str
    size: str
    seconds: str
    n: int
    provider: str
    executed_model: str
    spec: JobSpec
    report: list[Any]
    cost_estimate: float
    remixed_from_video_id: str | None = None
    runs: list[RunRecord] = field(default_factory=list)

    def created(self, now: float) -> VideoJob:
        """The job as its new row reads back (queued, in the submit stage), without reading it back."""
        return VideoJob(
            id=self.id,
            owner=self.owner,
            model=self.model,
            status=JobStatus.QUEUED,
            progress=0,
            prompt=self.prompt,
            size=self.size,
            seconds=self.seconds,
            n=self.n,
            created_at=now,
            completed_at=None,
            expires_at=None,
            remixed_from_video_id=self.remixed_from_video_id,
            error_code=None,
            error_message=None,
            provider=self.provider,
            executed_model=self.executed_model,
            spec=self.spec,
            report=list(self.report),
            runs=tuple(self.runs),
            outputs=(),
            cost_estimate=self.cost_estimate,
            attempts=0,
            cancel_requested=False,
        )

    def row_values(self) -> dict[str, Any]:
        """The columns of the new row (JSON columns as JSON)."""
        return {
            "id": self.id,
            "owner": self.owner,
            "model": self.model,
            "prompt": self.prompt,
            "size": self.size,
            "seconds": self.seconds,
            "n": self.n,
            "provider": self.provider,
            "executed_model": self.executed_model,
            "request": self.spec.to_json(),
            "report": self.report,
            "cost_estimate": self.cost_estimate,
            "remixed_from_video_id": self.remixed_from_video_id,
            "runs": dump_runs(self.runs),
        }


__all__ = ["UNFINISHED", "JobStatus", "NewJob", "Stage", "VideoJob", "VideoOutput", "VideoRow"]
