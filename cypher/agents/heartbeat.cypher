// Liveness: the agent is alive and still holds the tasks it lists with their fencing tokens.
// Leases (and the resource locks that ride on them) are extended only where the token is
// current; the caller reports the others as lost. An offline agent comes back online (an
// Event); a routine heartbeat is liveness, not a change, so it writes no Event.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (a:Agent {id: coalesce($agentId, '')})
WITH c, a, a.status AS was
SET a.lastHeartbeat = $now,
    a.status = CASE WHEN was = 'offline' THEN 'online' ELSE was END,
    c.seq = c.seq + CASE WHEN was = 'offline' THEN 1 ELSE 0 END
FOREACH (_ IN CASE WHEN was = 'offline' THEN [1] ELSE [] END |
  CREATE (e:Event {seq: c.seq, type: 'agent.online', at: $now, actor: $actor, subject: a.id,
                   agentId: a.id,
                   payload: '{}'})
  CREATE (e)-[:ON]->(a))
WITH a
UNWIND CASE WHEN size($leases) = 0 THEN [null] ELSE $leases END AS l
OPTIONAL MATCH (t:Task {id: l.taskId})
WHERE t.agentId = a.id AND t.fence = l.fence
  AND t.status IN ['assigned', 'running', 'awaiting_approval']
SET t.leaseUntil = $leaseUntil
WITH a, t
OPTIONAL MATCH (:Resource)-[lk:LOCKED_BY {auto: true}]->(t)
SET lk.until = $leaseUntil
WITH a, collect(DISTINCT t.id) AS extended
RETURN a.status AS status, extended
