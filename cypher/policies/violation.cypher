// Record an attempt that policy refused (the attempt itself changes nothing else).
MATCH (c:Counter {name: 'event'})
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'policy.violation', at: $now, actor: $actor, agentId: $agentId,
                 subject: $subject, payload: $payload})
WITH e
OPTIONAL MATCH (a:Agent {id: $agentId})
FOREACH (_ IN CASE WHEN a IS NULL THEN [] ELSE [1] END | CREATE (e)-[:ON]->(a))
RETURN e.seq AS seq
