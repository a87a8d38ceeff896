"""Infrastructure clients, one job each and no domain knowledge: the PostgreSQL pool (`database`), the Redis
client and RQ queues (`redis_client`), the embedded development services (`embedded`), the migration runner
(`migrations`), child-process helpers (`processes`) and JSON-lines logging (`logs`)."""
