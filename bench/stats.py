"""Latency summaries: nearest-rank percentiles over measured samples, with timed-out samples kept in the ranks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Sample:
    seconds: float
    ok: bool
    timed_out: bool = False


def percentile(sorted_samples: Sequence[Sample], fraction: float) -> Sample:
    """Nearest-rank percentile (fraction in (0, 1]) of samples sorted by duration."""
    if not sorted_samples:
        raise ValueError("no samples")
    rank = max(1, math.ceil(fraction * len(sorted_samples)))
    return sorted_samples[rank - 1]


def summarize(samples: list[Sample], wall_seconds: float) -> dict[str, Any]:
    """p50/p95/p99/mean in milliseconds and requests/s over the measured window.

    A timed-out request counts at the time it took to be cancelled, so a percentile that lands on one is a lower
    bound; `p50_censored`/`p99_censored` say so. Failed (non-timeout) requests are counted and left out of the ranks.
    """
    ranked = sorted((s for s in samples if s.ok or s.timed_out), key=lambda s: s.seconds)
    ok = sum(1 for s in samples if s.ok)
    timeouts = sum(1 for s in samples if s.timed_out)
    errors = len(samples) - ok - timeouts
    out: dict[str, Any] = {
        "n": len(samples),
        "ok": ok,
        "timeouts": timeouts,
        "errors": errors,
        "wall_seconds": round(wall_seconds, 4),
        "rps": round(ok / wall_seconds, 3) if wall_seconds > 0 else None,
    }
    if ranked:
        p50 = percentile(ranked, 0.50)
        p95 = percentile(ranked, 0.95)
        p99 = percentile(ranked, 0.99)
        out |= {
            "p50_ms": round(p50.seconds * 1000, 3),
            "p95_ms": round(p95.seconds * 1000, 3),
            "p99_ms": round(p99.seconds * 1000, 3),
            "mean_ms": round(sum(s.seconds for s in ranked) / len(ranked) * 1000, 3),
            "max_ms": round(ranked[-1].seconds * 1000, 3),
            "p50_censored": p50.timed_out,
            "p95_censored": p95.timed_out,
            "p99_censored": p99.timed_out,
        }
    else:
        out |= {"p50_ms": None, "p95_ms": None, "p99_ms": None, "mean_ms": None, "max_ms": None}
        out |= {"p50_censored": False, "p95_censored": False, "p99_censored": False}
    return out
