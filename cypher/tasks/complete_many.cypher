// Bulk completion by one agent ($items: [{taskId, fence, result}], distinct tasks; spend was
// recorded first by costs/report):
// the same checks as tasks/finish per item (current fencing token, still working, held by
// $agentId, still allowed by policy); items that fail them are skipped and left untouched.
// Returns the ids completed.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
UNWIND $items AS it
MATCH (t:Task {id: it.taskId})
WHERE t.agentId = $agentId AND t.fence = it.fence
  AND t.status IN ['assigned', 'running', 'awaiting_approval']
MATCH (a:Agent {id: coalesce($agentId, '')})
WHERE NOT t.capability IN coalesce(a.pDenyCaps, [])
  AND (a.pAllowCaps IS NULL OR t.capability IN a.pAllowCaps)
  AND none(d IN coalesce(t.domains, []) WHERE d IN coalesce(a.pDenyDomains, []))
  AND (a.pAllowDomains IS NULL OR all(d IN coalesce(t.domains, []) WHERE d IN a.pAllowDomains))
  AND none(r IN t.resources WHERE r IN coalesce(a.pDenyResources, []))
  AND (a.pAllowResources IS NULL OR all(r IN t.resources WHERE r IN a.pAllowResources))
// maxCostPerTask: the task's recorded cost plus this item's (unless already recorded, under
// it.costKey) must stay within it, else the item is refused like the others
OPTIONAL MATCH (fin:CostEntry {id: it.costKey})
WITH c, a, t, it, fin
WHERE a.pMaxCost IS NULL
   OR t.costUsd + CASE WHEN fin IS NULL THEN it.usd ELSE 0.0 END <= a.pMaxCost
WITH c, a, collect(t) AS ts, collect(it) AS its
WHERE size(ts) > 0
SET a.active = CASE WHEN a.active > size(ts) THEN a.active - size(ts) ELSE 0 END,
    a.done = coalesce(a.done, 0) + size(ts)
WITH c, a, ts, its, c.seq AS base
SET c.seq = base + size(ts)
WITH a, ts, its, base
UNWIND range(0, size(ts) - 1) AS i
WITH a, ts[i] AS t, its[i] AS it, base + i + 1 AS seq
SET t.status = 'done', t.qk = null, t.result = it.result,
    t.leaseUntil = null, t.endedAt = $now, t.updatedAt = $now
CREATE (e:Event {seq: seq, type: 'task.completed', at: $now, actor: $actor, subject: t.id,
                 agentId: a.id,
                 payload: '{"agentId":"' + a.id + '","fence":' + toString(t.fence) +
                          ',"attempt":' + toString(t.attempts) + ',"status":"done"}'})
CREATE (e)-[:ON]->(t)
// Decision span (tracing on), kept small on this hot path: who was given / took / ended
// the task, when. Its trace, parent span and run are the task's (ON).
FOREACH (_ IN CASE WHEN $trace THEN [1] ELSE [] END |
  CREATE (d:Decision {id: t.id + '/' + toString(t.fence) + '/' + 'complete', name: 'complete',
                      at: $now, taskId: t.id, agentId: a.id})
  CREATE (d)-[:BY]->(a)
  CREATE (d)-[:ON]->(t))
WITH a, t
OPTIONAL MATCH (t)-[r:ASSIGNED_TO {attempt: t.attempts}]->(a)
SET r.outcome = 'done', r.endedAt = $now
WITH t
OPTIONAL MATCH (:Resource)-[lk:LOCKED_BY]->(t)
DELETE lk
WITH DISTINCT t
RETURN t.id AS id
