// Seed org entities ($rows: {id, kind, name, domain, text, attrs?: JSON}), each IN_DOMAIN its
// domain, with the text search indexes (a new or changed one flagged needsEmbedding for the
// embedding job).
UNWIND $rows AS r
MATCH (d:Domain {id: r.domain})
MERGE (e:Entity {id: r.id})
ON CREATE SET e._new = true, e.createdAt = $now
SET e.needsEmbedding = CASE WHEN e.text = r.text THEN e.needsEmbedding ELSE true END
SET e.kind = r.kind, e.name = r.name, e.text = r.text, e.attrs = coalesce(r.attrs, e.attrs)
MERGE (e)-[:IN_DOMAIN]->(d)
WITH collect(e) AS touched
WITH touched, [e IN touched WHERE e._new = true] AS created
FOREACH (e IN created | REMOVE e._new)
WITH size(created) AS n WHERE n > 0
MATCH (c:Counter {name: 'event'})
SET c.seq = c.seq + 1
CREATE (:Event {seq: c.seq, type: 'seed.applied', at: $now, actor: 'system', subject: 'Entity',
                payload: '{"label":"Entity","created":' + toString(n) + '}'})
RETURN n AS created
