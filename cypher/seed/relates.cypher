// Seed RELATES_TO edges between entities (both ends must exist): a past incident and the
// service it was about.
UNWIND $rows AS r
MATCH (a:Entity {id: r.from}), (b:Entity {id: r.to})
MERGE (a)-[l:RELATES_TO]->(b)
ON CREATE SET l._new = true, l.createdAt = $now
WITH collect(l) AS touched
WITH touched, [l IN touched WHERE l._new = true] AS created
FOREACH (l IN created | REMOVE l._new)
WITH size(created) AS n WHERE n > 0
MATCH (c:Counter {name: 'event'})
SET c.seq = c.seq + 1
CREATE (:Event {seq: c.seq, type: 'seed.applied', at: $now, actor: 'system', subject: 'RELATES_TO',
                payload: '{"label":"RELATES_TO","created":' + toString(n) + '}'})
RETURN n AS created
