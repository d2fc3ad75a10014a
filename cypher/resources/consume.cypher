// Token bucket, updated atomically: refill for the time elapsed (capped at the limit), then
// take $n tokens if there are enough. Returns whether it was allowed and how long to wait
// for the missing tokens otherwise. Consumption is counted, not logged (no Event): it is a
// high-rate meter, not a change anyone audits; refusals show up in metrics.
// Serialise with every other writer first (Neo4j: the counter's write lock before any
// node this statement touches, so lock order is the same everywhere and cannot deadlock).
MATCH (lk:Counter {name: 'event'})
SET lk._lk = timestamp()
WITH lk
MATCH (r:Resource {id: coalesce($id, '')})
SET r._lk = coalesce(r._lk, 0) + 1
WITH r,
     CASE WHEN r.rateLimit IS NULL THEN null
          ELSE r.tokens + ($now - r.refilledAt) * toFloat(r.rateLimit) / r.windowMs END AS raw
WITH r, CASE WHEN raw > r.rateLimit THEN toFloat(r.rateLimit) ELSE raw END AS avail
WITH r, avail, avail IS NULL OR avail >= $n AS allowed
SET r.tokens = CASE WHEN avail IS NULL THEN null WHEN allowed THEN avail - $n ELSE avail END,
    r.refilledAt = $now,
    r.consumed = coalesce(r.consumed, 0) + CASE WHEN allowed THEN $n ELSE 0 END
RETURN allowed,
       CASE WHEN allowed THEN 0
            ELSE toInteger(($n - avail) * r.windowMs / r.rateLimit) + 1 END AS retryAfterMs,
       r.tokens AS tokens
