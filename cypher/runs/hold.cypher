// A human checkpoint's task is held by the engine's own agent ('baton') so that a proposal
// can stand on it: queued -> running under a new fencing token, never routed to anyone else.
// The engine's agent is made on first use: offline, no capacity, so nothing routes to it.
// Only a task the engine made (`engine: true`) is held.
// No row back: the task is no longer queued (already held: the caller reads it).
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (t:Task {id: coalesce($taskId, '')})
WHERE t.status = 'queued' AND t.engine = true
MERGE (a:Agent {id: 'baton'})
ON CREATE SET a.name = 'Baton workflow engine', a.kind = 'supervisor',
              a.capabilities = ['workflow.approval'], a.maxConcurrency = 0, a.declaredMax = 0,
              a.status = 'offline', a.active = 0, a.done = 0, a.failed = 0, a.createdAt = $now
SET t.status = 'running', t.agentId = a.id, t.fence = t.fence + 1,
    t.attempts = t.attempts + 1, t.qk = null, t.leaseUntil = $now + $leaseMs,
    t.startedAt = $now, t.updatedAt = $now
CREATE (t)-[:ASSIGNED_TO {attempt: t.attempts, at: $now}]->(a)
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'task.assigned', at: $now, actor: 'workflow',
                 subject: t.id,
                 payload: '{"agentId":"baton","fence":' + toString(t.fence) + '}'})
CREATE (e)-[:ON]->(t)
RETURN properties(t) AS task
