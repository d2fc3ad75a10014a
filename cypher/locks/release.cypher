// Release a task's lock on a resource; waiters learn from the lock.released event (its
// payload lists them) and retry acquireLock in priority order. Only the lock's holder may:
// the task must still be working under the fencing token $fence, held by $agentId (an
// admin passes null for the agent, never for the fence).
// No row back: no such lock, or the caller is not its holder (the caller says which).
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (r:Resource {id: coalesce($resourceId, '')})-[l:LOCKED_BY]->(t:Task {id: coalesce($taskId, '')})
WHERE t.fence = $fence AND t.status IN ['assigned', 'running', 'awaiting_approval']
  AND ($agentId IS NULL OR t.agentId = $agentId)
DELETE l
WITH DISTINCT c, r, t
OPTIONAL MATCH (w:Task)-[wt:WAITING]->(r)
WITH c, r, t, w
ORDER BY wt.priority DESC, wt.since ASC
WITH c, r, t, collect(w.id) AS waiters
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'lock.released', at: $now, actor: $actor, subject: r.id,
                 agentId: t.agentId,
                 payload: '{"taskId":"' + t.id + '","waiters":' + toString(size(waiters)) + '}'})
CREATE (e)-[:ON]->(r)
RETURN r.id AS resourceId, waiters
