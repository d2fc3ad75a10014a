// Create or update org entities in a batch ($rows: [{id, kind, name, domain, attrs}]), each
// IN_DOMAIN its domain; idempotent. No row back when a domain is unknown (nothing written).
MATCH (c:Counter {name: 'event'})
SET c._lk = coalesce(c._lk, 0) + 1
WITH c
OPTIONAL MATCH (d:Domain)
WHERE d.id IN $domains
WITH c, count(d) AS known
WHERE known = size($domains)
UNWIND $rows AS r
MATCH (d:Domain {id: r.domain})
MERGE (e:Entity {id: r.id})
ON CREATE SET e.createdAt = $now
SET e.kind = r.kind, e.name = r.name, e.attrs = r.attrs, e.updatedAt = $now
WITH c, e, d
OPTIONAL MATCH (e)-[old:IN_DOMAIN]->(other:Domain)
WHERE other.id <> d.id
DELETE old
WITH DISTINCT c, e, d
MERGE (e)-[:IN_DOMAIN]->(d)
WITH c, count(DISTINCT e) AS n
SET c.seq = c.seq + 1
CREATE (:Event {seq: c.seq, type: 'entity.upserted', at: $now, actor: $actor, subject: null,
                payload: '{"count":' + toString(n) + '}'})
RETURN n AS upserted
