"""The failover check (bench/chaos.py) at full size: a local 3-node cluster loses each node in turn (a data node,
the elected cluster manager, the host named first in the URL) during a 200,000-record load with 25 queries/s through
the service; no query fails, no record is lost or doubled, the newest version of each record stays.

Deselected by default (it needs about 4 GB and a few minutes): `.venv/bin/pytest -m chaos tests/test_chaos.py`, or
`.venv/bin/python -m bench.chaos`, which also writes the figures (README, "Several hosts, failover and timeouts").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import chaos


@pytest.mark.chaos
def test_a_three_node_cluster_loses_each_node_without_failing_a_query(tmp_path: Path) -> None:
    result = chaos.run(chaos.Options(out=tmp_path))
    print(chaos.render(result))
    failed = [check for check in result["checks"] if not check["ok"]]
    assert not failed, chaos.render(result)
