"""`POST /api/v1/ingest`: logged requests sent live by a proxy or SDK, written into the key's tenant. The body is
read within limits (body.py), each record becomes a document through core.preparation as in the loaders
(records.py), the documents are bulk-written with external versions so the newest `updatedAt` wins (write.py),
and the answer accounts for every record (answer.py)."""
