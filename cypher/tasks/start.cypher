// The assigned agent starts work on a pushed task (assigned -> running). The fencing token
// must be current. No row back: unknown task, not this agent's, or a stale token.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (t:Task {id: coalesce($taskId, '')})
WHERE t.status = 'assigned' AND t.agentId = $agentId AND t.fence = $fence
SET t.status = 'running', t.startedAt = $now, t.updatedAt = $now, c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'task.running', at: $now, actor: $actor, subject: t.id,
                 agentId: t.agentId,
                 payload: '{"agentId":"' + t.agentId + '","fence":' + toString(t.fence) + '}'})
CREATE (e)-[:ON]->(t)
RETURN properties(t) AS task
