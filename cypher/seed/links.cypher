// Seed DEPENDS_ON edges between entities (both ends must exist).
UNWIND $rows AS r
MATCH (a:Entity {id: r.from}), (b:Entity {id: r.to})
MERGE (a)-[l:DEPENDS_ON]->(b)
ON CREATE SET l._new = true, l.createdAt = $now
WITH collect(l) AS touched
WITH touched, [l IN touched WHERE l._new = true] AS created
FOREACH (l IN created | REMOVE l._new)
WITH size(created) AS n WHERE n > 0
MATCH (c:Counter {name: 'event'})
SET c.seq = c.seq + 1
CREATE (:Event {seq: c.seq, type: 'seed.applied', at: $now, actor: 'system', subject: 'DEPENDS_ON',
                payload: '{"label":"DEPENDS_ON","created":' + toString(n) + '}'})
RETURN n AS created
