"""Operations: what an operator of several web nodes and workers needs (issue 19).

Prometheus metrics at /metrics, JSON logs with a request id carried into tasks and outbox
deliveries, /readyz, the workers' heartbeats, and the database router that sends report, search
and export reads to a streaming replica (DATABASE_REPLICA_URL).
"""
