"""llm-request-search: search logged LLM API requests in OpenSearch."""
