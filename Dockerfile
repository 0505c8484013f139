FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core ./core
COPY service ./service
COPY loaders ./loaders
COPY localnode ./localnode
COPY cli ./cli
COPY index_templates ./index_templates
RUN pip install --no-cache-dir -e .
EXPOSE 8080 9464
# Ready (200) once OpenSearch answers and the templates, aliases and keys index exist; the slim image has no curl.
# The port is LLMSEARCH_PORT's default: a container that changes it changes this too.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8080/readyz', timeout=4)"]
CMD ["llmsearch", "serve"]
