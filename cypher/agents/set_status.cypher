// Pause (no new work is routed; running work continues) or resume an agent. No row back:
// unknown agent, or already in that status (nothing written).
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (a:Agent {id: coalesce($agentId, '')})
WHERE a.status <> $status
SET a.status = $status, a.lastHeartbeat = CASE WHEN $status = 'online' THEN $now
                                                ELSE a.lastHeartbeat END,
    c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'agent.' + $status, at: $now, actor: $actor,
                 subject: a.id, payload: '{}'})
CREATE (e)-[:ON]->(a)
RETURN properties(a) AS agent
