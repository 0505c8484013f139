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
    # The one-shot that imports the Dashboards objects runs the Dashboards image (for its curl): the same pin.
    assert services["dashboards-import"]["image"] == DASHBOARDS_IMAGE
    images = {spec["image"] for spec in services.values() if "image" in spec}
    assert images == {OPENSEARCH_IMAGE, DASHBOARDS_IMAGE}, "every image is one of the pinned two"


def test_compose_wires_services_by_name_with_health_checks() -> None:
    services = compose()["services"]
    assert set(services) == {"opensearch", "dashboards", "dashboards-import", "service"}
    assert services["service"]["environment"]["OPENSEARCH_URL"] == "http://opensearch:9200"
    assert "opensearch:9200" in services["dashboards"]["environment"]["OPENSEARCH_HOSTS"]
    for name, spec in services.items():
        if spec.get("restart") == "no":  # a one-shot (dashboards-import): it exits, there is nothing to check
            continue
        assert "healthcheck" in spec, name
    assert services["dashboards-import"]["depends_on"]["dashboards"]["condition"] == "service_started"
    assert services["service"]["depends_on"]["opensearch"]["condition"] == "service_healthy"
    assert services["opensearch"]["environment"]["DISABLE_SECURITY_PLUGIN"] == "true"
    assert (ROOT / services["service"]["build"] / "Dockerfile").is_file()


def test_the_service_is_healthy_when_ready() -> None:
    """Compose and the image's own HEALTHCHECK ask `/readyz`: the engine answers and the indices are there."""
    test = compose()["services"]["service"]["healthcheck"]["test"]
    assert test[0] == "CMD" and "http://localhost:8080/readyz" in test[-1]
    dockerfile = (ROOT / "Dockerfile").read_text()
    (healthcheck,) = [line for line in dockerfile.replace("\\\n", " ").splitlines() if line.startswith("HEALTHCHECK")]
    assert "http://localhost:8080/readyz" in healthcheck and "python" in healthcheck
    # The image has no curl: both are the same Python one-liner (tests/test_observability_serve.py runs it).
    command = test[1:]
    assert command[:2] == ["python", "-c"] and command[2] in healthcheck
