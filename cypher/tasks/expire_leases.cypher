// Scheduler job: an assigned/running task whose lease ran out (its agent crashed or went
// silent) loses that attempt: back to the queue after backoff with jitter, or `dead` once
// maxAttempts are used up. Its agent slot and resource locks are released.
// No work, no write: the cheap check below ends the statement before the counter lock
// when there is nothing to do (an idle tick writes nothing, on either backend).
MATCH (g:Task)
WHERE g.status IN ['assigned', 'running'] AND g.leaseUntil < $now
WITH g
LIMIT 1
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (t:Task)
WHERE t.status IN ['assigned', 'running'] AND t.leaseUntil < $now
WITH c, t
ORDER BY t.leaseUntil ASC
LIMIT $limit
WITH c, collect(t) AS ts
WHERE size(ts) > 0
WITH c, ts, c.seq AS base
SET c.seq = base + size(ts)
WITH base, ts
UNWIND range(0, size(ts) - 1) AS i
WITH base + i + 1 AS seq, ts[i] AS t
MATCH (a:Agent {id: t.agentId})
WITH seq, t, a, CASE WHEN t.attempts >= t.maxAttempts THEN 'dead' ELSE 'queued' END AS next,
     toInteger($backoffBaseMs * 2 ^ (t.attempts - 1) * (0.5 + rand() / 2)) AS backoff
SET a.active = CASE WHEN a.active > 0 THEN a.active - 1 ELSE 0 END,
    a.failed = coalesce(a.failed, 0) + 1,
    t.status = next,
    t.qk = CASE WHEN next = 'queued' THEN t.capability + '|' + toString(t.priority) ELSE null END,
    t.errors = t.errors + ['{"attempt":' + toString(t.attempts) + ',"agentId":"' + a.id +
                           '","error":"lease expired","at":' + toString($now) + '}'],
    t.notBefore = CASE WHEN backoff > $backoffMaxMs THEN $now + $backoffMaxMs
                       ELSE $now + backoff END,
    t.agentId = null, t.leaseUntil = null, t.updatedAt = $now,
    t.endedAt = CASE WHEN next = 'dead' THEN $now ELSE null END
CREATE (e:Event {seq: seq, type: CASE next WHEN 'dead' THEN 'task.dead'
                                           ELSE 'task.lease_expired' END,
                 at: $now, actor: 'scheduler', subject: t.id,
                 payload: '{"agentId":"' + a.id + '","attempt":' + toString(t.attempts) +
                          ',"status":"' + next + '"}'})
CREATE (e)-[:ON]->(t)
// Decision span (tracing on), kept small on this hot path: who was given / took / ended
// the task, when. Its trace, parent span and run are the task's (ON).
FOREACH (_ IN CASE WHEN $trace THEN [1] ELSE [] END |
  CREATE (d:Decision {id: t.id + '/' + toString(t.fence) + '/' + 'lease.expired', name: 'lease.expired',
                      at: $now, taskId: t.id, agentId: a.id})
  CREATE (d)-[:BY]->(a)
  CREATE (d)-[:ON]->(t))
WITH t, a
OPTIONAL MATCH (t)-[r:ASSIGNED_TO {attempt: t.attempts}]->(a)
SET r.outcome = 'lease_expired', r.endedAt = $now
WITH t
OPTIONAL MATCH (:Resource)-[lk:LOCKED_BY]->(t)
DELETE lk
RETURN count(DISTINCT t) AS expired
