// Put a dead-lettered task back in the queue with a fresh attempt budget; its error history
// and fencing token carry on (tokens never go backwards).
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (t:Task {id: coalesce($taskId, '')})
WHERE t.status = 'dead'
SET t.status = 'queued', t.qk = t.capability + '|' + toString(t.priority), t.attempts = 0, t.notBefore = $now, t.queuedAt = $now,
    t.endedAt = null, t.updatedAt = $now, c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'task.requeued', at: $now, actor: $actor, subject: t.id,
                 payload: '{}'})
CREATE (e)-[:ON]->(t)
RETURN properties(t) AS task
