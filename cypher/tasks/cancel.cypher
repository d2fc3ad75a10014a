// Cancel a task that has not ended. A working agent is told through its subscription
// (the task.cancelled event names it) and its slot and locks are released at once.
// No row back: unknown task or already ended.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (t:Task {id: coalesce($taskId, '')})
WHERE NOT t.status IN ['done', 'failed', 'dead', 'cancelled', 'merged']
WITH c, t, t.agentId AS holder,
     t.status IN ['assigned', 'running', 'awaiting_approval'] AS working
OPTIONAL MATCH (a:Agent {id: holder})
WHERE working
SET a.active = CASE WHEN a.active > 0 THEN a.active - 1 ELSE 0 END,
    t.status = 'cancelled', t.qk = null, t.endedAt = $now, t.updatedAt = $now, t.leaseUntil = null,
    t.errors = t.errors + [$reason]
WITH c, t, holder, working
OPTIONAL MATCH (t)-[r:ASSIGNED_TO {attempt: t.attempts}]->(:Agent)
WHERE working
SET r.outcome = 'cancelled', r.endedAt = $now
WITH c, t, holder, working
OPTIONAL MATCH (:Resource)-[lk:LOCKED_BY]->(t)
DELETE lk
WITH DISTINCT c, t, holder, working
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'task.cancelled', at: $now, actor: $actor, subject: t.id,
                 payload: '{"agentId":' + CASE WHEN working AND holder IS NOT NULL
                                              THEN '"' + holder + '"' ELSE 'null' END +
                          ',"fence":' + toString(t.fence) + '}'})
CREATE (e)-[:ON]->(t)
RETURN properties(t) AS task
