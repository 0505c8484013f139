"""The one place that pins OpenSearch: the local node, compose.yaml and the testcontainers image follow it."""

OPENSEARCH_VERSION = "3.8.0"
OPENSEARCH_IMAGE = f"opensearchproject/opensearch:{OPENSEARCH_VERSION}"
DASHBOARDS_IMAGE = f"opensearchproject/opensearch-dashboards:{OPENSEARCH_VERSION}"
# Maven coordinates of OpenSearch's own minimal distribution: a complete server with every standard module.
OPENSEARCH_ARTIFACT = f"org.opensearch.distribution.integ-test-zip:opensearch:{OPENSEARCH_VERSION}:zip"
MIN_JAVA_MAJOR = 21
