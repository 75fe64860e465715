"""Prometheus metrics: turns, per-stage latency, errors, live calls, media frames, early decodes.

Each app gets its own registry, so several apps in one process (tests) do not
share counters.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

STAGES = ("stt", "nlu", "dialog", "tts", "total")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    turns: Counter
    stage_seconds: Histogram
    errors: Counter
    calls_active: Gauge
    media_frames: Counter
    media_gaps: Counter
    early_decodes: Counter

    @classmethod
    def create(cls) -> Metrics:
        r = CollectorRegistry()
        return cls(
            registry=r,
            turns=Counter("kocall_turns", "Answered turns", ["channel"], registry=r),
            stage_seconds=Histogram("kocall_stage_seconds", "Seconds per pipeline stage and in total (end of "
                                    "speech or request to reply)", ["channel", "stage"], buckets=BUCKETS, registry=r),
            errors=Counter("kocall_errors", "Refused requests and failed turns", ["where", "kind"], registry=r),
            calls_active=Gauge("kocall_calls_active", "Media streams open now", registry=r),
            media_frames=Counter("kocall_media_frames", "Inbound 20 ms audio frames", registry=r),
            media_gaps=Counter("kocall_media_gaps", "Inbound frames missing by sequence number", registry=r),
            early_decodes=Counter("kocall_early_decodes", "Caller pauses: 'started' a decode, 'used' by the turn "
                                  "the pause ended (started - used: decodes thrown away as the caller went on), "
                                  "'no_worker' (none free)", ["outcome"], registry=r),
        )

    def observe(self, channel: str, latency_ms: dict[str, float]) -> None:
        self.turns.labels(channel).inc()
        for stage, ms in latency_ms.items():
            if stage in STAGES:
                self.stage_seconds.labels(channel, stage).observe(ms / 1000)
