"""Demo data for the README's run command: synthetic requests for tenant `demo`, loaded once, and a fresh key."""

from __future__ import annotations

import tempfile
from pathlib import Path

from opensearchpy import AsyncOpenSearch

from core.templates import IndexNames, apply_templates
from service.keys import KeyStore

DEMO_TENANT = "demo"
DEMO_COUNT = 5_000
DEMO_SEED = 42


async def prepare_demo(client: AsyncOpenSearch, names: IndexNames) -> str:
    """Load the demo documents if the demo tenant has fewer than expected; return a new demo key."""
    await apply_templates(client, names)
    await client.indices.refresh(index=names.read_alias)
    present = await client.count(index=names.read_alias, body={"query": {"term": {"tenant_id": DEMO_TENANT}}})
    if present["count"] < DEMO_COUNT:
        print(f"Loading {DEMO_COUNT} synthetic demo requests for tenant '{DEMO_TENANT}' ...", flush=True)
        await load_demo_documents(client, names)
    key, _ = await KeyStore(client, names, 0).create(DEMO_TENANT, "demo")
    return key


async def load_demo_documents(client: AsyncOpenSearch, names: IndexNames) -> None:
    # Imported here: the HTTP service itself does not need the loaders, only this demo does.
    from loaders.options import LoadOptions
    from loaders.run import load
    from loaders.sources.synthetic_source import SyntheticSource

    with tempfile.TemporaryDirectory(prefix="llmsearch-demo-") as state:
        result = await load(
            SyntheticSource(DEMO_COUNT, DEMO_SEED),
            client=client,
            names=names,
            tenant=DEMO_TENANT,
            options=LoadOptions(state_dir=Path(state), backfill="off", progress="auto"),
        )
    print(
        f"Loaded {result.run.records:,} demo requests in {result.seconds:.1f}s ({result.counts.rejected} rejected)",
        flush=True,
    )
