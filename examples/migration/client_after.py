"""After — a profile, an inspectable middleware stack, and metrics of what the calls did."""

from soniox import SonioxClient, SonioxConfig

config = SonioxConfig.production(read_timeout=30.0)  # retries, budget, cache, metrics, tracing …
with SonioxClient(config=config) as client:  # the key and base URL still come from the env
    print(client.stack)  # headers → tracing → metrics → cache → dedup → retry → …
    models = client.models.list()
    client.models.list()  # answered by the cache: the catalogue changes on releases only
    snapshot = client.metrics.snapshot()
    print(f"calls {snapshot.calls}, cache hits {snapshot.cache_hits}")
    print(f"result: {sorted(m.id for m in models.models)[:3]}")
