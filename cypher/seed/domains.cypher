// Seed domains (MERGE by id); an event only when something was created.
UNWIND $rows AS r
MERGE (d:Domain {id: r.id})
ON CREATE SET d._new = true, d.createdAt = $now
SET d.name = r.name
WITH collect(d) AS touched
WITH touched, [d IN touched WHERE d._new = true] AS created
FOREACH (d IN created | REMOVE d._new)
WITH size(created) AS n WHERE n > 0
MATCH (c:Counter {name: 'event'})
SET c.seq = c.seq + 1
CREATE (:Event {seq: c.seq, type: 'seed.applied', at: $now, actor: 'system', subject: 'Domain',
                payload: '{"label":"Domain","created":' + toString(n) + '}'})
RETURN n AS created
