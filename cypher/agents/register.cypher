// Register (or re-register) an agent: online now, MEMBER_OF its team. Idempotent by id:
// re-registering updates capabilities and limits but keeps load counters and history.
// No row back means the team does not exist (nothing written).
MATCH (c:Counter {name: 'event'})
SET c._lk = coalesce(c._lk, 0) + 1
WITH c
OPTIONAL MATCH (tm:Team {id: $team})
WITH c, tm
WHERE $team IS NULL OR tm IS NOT NULL
MERGE (a:Agent {id: $id})
ON CREATE SET a.createdAt = $now, a.active = 0, a.done = 0, a.failed = 0
SET a.name = $name, a.kind = $kind, a.capabilities = $capabilities,
    a.declaredMax = $maxConcurrency,
    a.maxConcurrency = CASE WHEN a.pMaxConcurrent < $maxConcurrency THEN a.pMaxConcurrent
                            ELSE $maxConcurrency END,
    a.costPerCall = $costPerCall,
    a.webhookUrl = $webhookUrl, a.webhookSecret = $webhookSecret,
    a.team = coalesce($team, a.team), a.status = 'online',
    a.lastHeartbeat = $now, a.active = coalesce(a.active, 0)
WITH c, tm, a
OPTIONAL MATCH (a)-[old:MEMBER_OF]->(other:Team)
WHERE tm IS NOT NULL AND other.id <> tm.id
DELETE old
WITH DISTINCT c, tm, a
FOREACH (_ IN CASE WHEN tm IS NULL THEN [] ELSE [1] END | MERGE (a)-[:MEMBER_OF]->(tm))
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'agent.registered', at: $now, actor: $actor, subject: a.id,
                 payload: $payload})
CREATE (e)-[:ON]->(a)
RETURN properties(a) AS agent
