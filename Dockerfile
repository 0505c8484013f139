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
EXPOSE 8080
CMD ["llmsearch", "serve"]
