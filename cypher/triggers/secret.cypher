// The server's run-id secret (made by events/bootstrap): trigger run ids are an HMAC under it.
MATCH (k:Secret {name: 'run-ids'})
RETURN k.value AS value
