"""`llmsearch node start|stop|status`."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.settings import NodeSettings
from localnode.distribution import DistributionError
from localnode.java import NoSuitableJava
from localnode.local import LocalCluster, NodeError


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    node = commands.add_parser("node", help="manage a local OpenSearch node (or cluster)")
    node.add_argument("action", choices=["start", "stop", "status"])
    node.add_argument("--nodes", type=int, default=1, choices=[1, 3], help="1 (default) or a 3-node cluster")
    node.add_argument("--port", type=int, help="HTTP port of the first node (default 9200)")
    node.add_argument("--heap", help="JVM heap per node, e.g. 1g or 512m (default 1g)")
    node.add_argument("--dist", type=Path, help="a local OpenSearch zip instead of fetching it with Maven")
    node.set_defaults(handler=run)


def cluster_from_args(args: argparse.Namespace) -> LocalCluster:
    overrides = {k: v for k, v in (("port", args.port), ("heap", args.heap), ("dist", args.dist)) if v}
    settings = NodeSettings(**overrides)
    return LocalCluster(settings=settings, nodes=args.nodes)


def run(args: argparse.Namespace) -> int:
    cluster = cluster_from_args(args)
    try:
        if args.action == "start":
            cluster.start()
            print(cluster.urls)  # every node: OPENSEARCH_URL=<this> survives the loss of any one
        elif args.action == "stop":
            cluster.stop()
        else:
            print(cluster.status())
    except (NodeError, NoSuitableJava, DistributionError) as error:
        print(f"error: {error}")
        return 1
    return 0
