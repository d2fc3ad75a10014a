// Create or update a shared resource and its rate limit ($rateLimit calls per $windowMs;
// null = unlimited). A new limit starts with a full bucket.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MERGE (r:Resource {id: $id})
ON CREATE SET r.createdAt = $now
SET r.name = coalesce($name, r.name, $id), r.rateLimit = $rateLimit, r.windowMs = $windowMs,
    r.tokens = CASE WHEN $rateLimit IS NULL THEN null ELSE toFloat($rateLimit) END,
    r.refilledAt = $now, c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'resource.defined', at: $now, actor: $actor, subject: r.id,
                 payload: $payload})
CREATE (e)-[:ON]->(r)
RETURN properties(r) AS resource
