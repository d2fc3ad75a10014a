// Exclusive lock on a resource for a working task (its fencing token must be current, and
// $agentId, when given, must be the agent holding it; its policy must allow the resource).
//  - free (no unexpired holder), or already ours, and no better waiter: ours until now + ttl;
//  - held by a lower-priority task and $preempt (a critical task, allowed by policy): taken
//    over; the holder's task goes back to the queue, told through its subscription;
//  - otherwise the task waits: a WAITING edge (priority, then age) ranks it for its retry.
// Expired LOCKED_BY edges are dropped on the way. Returns the outcome and the holder.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (t:Task {id: coalesce($taskId, '')})
WHERE t.fence = $fence AND t.status IN ['assigned', 'running', 'awaiting_approval']
  AND ($agentId IS NULL OR t.agentId = $agentId)
// The agent by its id, after a WITH: adjacent MATCHes were planned as a scan of every Agent.
WITH c, t
MATCH (a:Agent {id: t.agentId})
WHERE NOT $resourceId IN coalesce(a.pDenyResources, [])
  AND (a.pAllowResources IS NULL OR $resourceId IN a.pAllowResources)
MERGE (r:Resource {id: $resourceId})
ON CREATE SET r.createdAt = $now
WITH c, t, r
OPTIONAL MATCH (r)-[dead:LOCKED_BY]->(:Task)
WHERE dead.until <= $now
DELETE dead
WITH DISTINCT c, t, r
OPTIONAL MATCH (r)-[l:LOCKED_BY]->(h:Task)
WHERE h.id <> t.id
WITH c, t, r, l, h
ORDER BY l.priority DESC
LIMIT 1
OPTIONAL MATCH (t)-[mine:WAITING]->(r)
WITH c, t, r, l, h, coalesce(mine.since, $now) AS since
OPTIONAL MATCH (w:Task)-[wt:WAITING]->(r)
WHERE w.id <> t.id AND w.status IN ['assigned', 'running', 'awaiting_approval']
  AND (wt.priority > $priority OR (wt.priority = $priority AND wt.since < since))
WITH c, t, r, l, h, since, count(w) AS ahead
WITH c, t, r, l, h, since,
     CASE WHEN h IS NULL AND ahead = 0 THEN 'acquired'
          WHEN h IS NOT NULL AND $preempt AND l.priority < $priority THEN 'preempted'
          ELSE 'waiting' END AS outcome
OPTIONAL MATCH (ha:Agent {id: h.agentId})
WHERE outcome = 'preempted'
OPTIONAL MATCH (h)-[ar:ASSIGNED_TO {attempt: h.attempts}]->(ha)
OPTIONAL MATCH (:Resource)-[hl:LOCKED_BY]->(h)
WHERE outcome = 'preempted'
WITH c, t, r, h, ha, ar, outcome, since, collect(hl) AS held
FOREACH (x IN held | DELETE x)
FOREACH (_ IN CASE WHEN outcome = 'preempted' THEN [1] ELSE [] END |
  SET ha.active = CASE WHEN ha.active > 0 THEN ha.active - 1 ELSE 0 END,
      ar.outcome = 'preempted', ar.endedAt = $now,
      h.status = 'queued', h.qk = h.capability + '|' + toString(h.priority), h.agentId = null, h.leaseUntil = null, h.notBefore = $now,
      h.updatedAt = $now, h.errors = h.errors + ['{"error":"preempted by ' + t.id + '"}'])
FOREACH (_ IN CASE WHEN outcome = 'waiting' THEN [1] ELSE [] END |
  MERGE (t)-[w:WAITING]->(r)
  ON CREATE SET w.since = $now
  SET w.priority = $priority)
WITH c, t, r, h, ha, outcome
OPTIONAL MATCH (t)-[w:WAITING]->(r)
WHERE outcome <> 'waiting'
DELETE w
WITH DISTINCT c, t, r, h, ha, outcome
OPTIONAL MATCH (r)-[own:LOCKED_BY]->(t)
WHERE outcome <> 'waiting'
DELETE own
WITH DISTINCT c, t, r, h, ha, outcome
FOREACH (_ IN CASE WHEN outcome = 'waiting' THEN [] ELSE [1] END |
  CREATE (r)-[:LOCKED_BY {until: $now + $ttlMs, priority: $priority, auto: false,
                          at: $now}]->(t))
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'lock.' + outcome, at: $now, actor: $actor, subject: r.id,
                 agentId: t.agentId,
                 payload: '{"taskId":"' + t.id + '","holder":' +
                          CASE WHEN h IS NULL THEN 'null' ELSE '"' + h.id + '"' END + '}'})
CREATE (e)-[:ON]->(r)
FOREACH (_ IN CASE WHEN outcome = 'preempted' THEN [1] ELSE [] END |
  SET c.seq = c.seq + 1
  CREATE (p:Event {seq: c.seq, type: 'task.preempted', at: $now, actor: $actor, subject: h.id,
                   payload: '{"agentId":"' + ha.id + '","by":"' + t.id + '","resource":"' +
                            r.id + '"}'})
  CREATE (p)-[:ON]->(h))
WITH r, h, outcome
OPTIONAL MATCH (r)-[cur:LOCKED_BY]->(holder:Task)
RETURN outcome, holder.id AS holder, cur.until AS until
