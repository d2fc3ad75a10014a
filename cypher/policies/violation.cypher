// Record attempts that policy refused ($items: [{subject, payload}], all by agent $agentId;
// the attempts themselves change nothing else): one policy.violation event each, in order.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c, c.seq AS base
SET c.seq = base + size($items)
WITH base
OPTIONAL MATCH (a:Agent {id: coalesce($agentId, '')})
UNWIND range(0, size($items) - 1) AS i
WITH a, base + i + 1 AS seq, $items[i] AS it
CREATE (e:Event {seq: seq, type: 'policy.violation', at: $now, actor: $actor, agentId: $agentId,
                 subject: it.subject, payload: it.payload})
FOREACH (_ IN CASE WHEN a IS NULL THEN [] ELSE [1] END | CREATE (e)-[:ON]->(a))
RETURN e.seq AS seq
