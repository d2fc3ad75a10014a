// The assigned agent reports an outcome ($outcome: done | failed | retry). A retryable
// failure goes back to the queue after exponential backoff with jitter, or to `dead` once
// maxAttempts are used up; the error history is kept on the task. The fencing token must be
// the current one, so a worker presumed dead can never overwrite its successor's result.
// Spend comes in separately and first (costs/report), idempotently.
// No row back: unknown task, not this agent's, already finished, or a stale token.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (t:Task {id: coalesce($taskId, '')})
WHERE t.agentId = $agentId AND t.fence = $fence
  AND t.status IN ['assigned', 'running', 'awaiting_approval']
// The agent by the parameter, not by `t.agentId` (equal, per the WHERE): FalkorDB plans a
// match on another node's property as a hash join over a scan of every Agent.
MATCH (a:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (fin:CostEntry {id: coalesce($costKey, '')})
WITH c, t, a, fin
// A result is accepted only if policy still allows this agent this work (it may have changed
// since the assignment) and the task's cost, with this report's $costUsd unless it is
// already recorded (under $costKey), stays within maxCostPerTask; failures are always
// accepted.
WHERE $outcome <> 'done' OR (NOT t.capability IN coalesce(a.pDenyCaps, [])
  AND (a.pMaxCost IS NULL
       OR t.costUsd + CASE WHEN fin IS NULL THEN $costUsd ELSE 0.0 END <= a.pMaxCost)
  AND (a.pAllowCaps IS NULL OR t.capability IN a.pAllowCaps)
  AND none(d IN coalesce(t.domains, []) WHERE d IN coalesce(a.pDenyDomains, []))
  AND (a.pAllowDomains IS NULL OR all(d IN coalesce(t.domains, []) WHERE d IN a.pAllowDomains))
  AND none(r IN t.resources WHERE r IN coalesce(a.pDenyResources, []))
  AND (a.pAllowResources IS NULL OR all(r IN t.resources WHERE r IN a.pAllowResources)))
WITH c, t, a,
     CASE WHEN $outcome = 'done' THEN 'done'
          WHEN $outcome = 'failed' THEN 'failed'
          WHEN t.attempts >= t.maxAttempts THEN 'dead'
          ELSE 'queued' END AS next,
     toInteger($backoffBaseMs * 2 ^ (t.attempts - 1) * $jitter) AS backoff
SET a.active = CASE WHEN a.active > 0 THEN a.active - 1 ELSE 0 END,
    a.done = coalesce(a.done, 0) + CASE WHEN next = 'done' THEN 1 ELSE 0 END,
    a.failed = coalesce(a.failed, 0) + CASE WHEN next = 'done' THEN 0 ELSE 1 END,
    t.status = next,
    t.qk = CASE WHEN next = 'queued' THEN t.capability + '|' + toString(t.priority) ELSE null END,
    t.result = CASE WHEN next = 'done' THEN $result ELSE t.result END,
    t.errors = CASE WHEN next = 'done' THEN t.errors ELSE t.errors + [$error] END,
    t.notBefore = CASE WHEN next <> 'queued' THEN t.notBefore
                       WHEN backoff > $backoffMaxMs THEN $now + $backoffMaxMs
                       ELSE $now + backoff END,
    t.agentId = CASE WHEN next = 'queued' THEN null ELSE t.agentId END,
    t.leaseUntil = null,
    t.endedAt = CASE WHEN next = 'queued' THEN null ELSE $now END,
    t.updatedAt = $now
WITH c, t, a, next
OPTIONAL MATCH (t)-[r:ASSIGNED_TO {attempt: t.attempts}]->(a)
SET r.outcome = next, r.endedAt = $now
WITH c, t, a, next
OPTIONAL MATCH (:Resource)-[lk:LOCKED_BY]->(t)
DELETE lk
WITH DISTINCT c, t, a, next
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq,
                 type: CASE next WHEN 'done' THEN 'task.completed'
                                 WHEN 'queued' THEN 'task.retrying' ELSE 'task.' + next END,
                 at: $now, actor: $actor, subject: t.id, agentId: a.id,
                 payload: '{"agentId":"' + a.id + '","fence":' + toString($fence) +
                          ',"attempt":' + toString(t.attempts) + ',"status":"' + next + '"}'})
CREATE (e)-[:ON]->(t)
// Decision span (tracing on), kept small on this hot path: who was given / took / ended
// the task, when. Its trace, parent span and run are the task's (ON).
WITH t, a, CASE next WHEN 'done' THEN 'complete' WHEN 'queued' THEN 'retry' ELSE 'fail' END AS dn
FOREACH (_ IN CASE WHEN $trace THEN [1] ELSE [] END |
  CREATE (d:Decision {id: t.id + '/' + toString(t.fence) + '/' + dn, name: dn,
                      at: $now, taskId: t.id, agentId: a.id})
  CREATE (d)-[:BY]->(a)
  CREATE (d)-[:ON]->(t))
RETURN DISTINCT properties(t) AS task
