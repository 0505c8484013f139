"""compose.yaml cannot run here (no Docker engine); at least it parses, wires the services, and pins our version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from core.versions import DASHBOARDS_IMAGE, OPENSEARCH_IMAGE

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_compose_pins_the_same_opensearch_version() -> None:
    services = compose()["services"]
    assert services["opensearch"]["image"] == OPENSEARCH_IMAGE
    assert services["dashboards"]["image"] == DASHBOARDS_IMAGE


def test_compose_wires_services_by_name_with_health_checks() -> None:
    services = compose()["services"]
    assert set(services) == {"opensearch", "dashboards", "service"}
    assert services["service"]["environment"]["OPENSEARCH_URL"] == "http://opensearch:9200"
    assert "opensearch:9200" in services["dashboards"]["environment"]["OPENSEARCH_HOSTS"]
    for name, spec in services.items():
        assert "healthcheck" in spec, name
    assert services["service"]["depends_on"]["opensearch"]["condition"] == "service_healthy"
    assert services["opensearch"]["environment"]["DISABLE_SECURITY_PLUGIN"] == "true"
    assert (ROOT / services["service"]["build"] / "Dockerfile").is_file()
