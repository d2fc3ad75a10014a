// Pull routing: the agent takes up to $max of the best eligible queued tasks (its
// capabilities, optionally one capability), bounded by its spare concurrency. Same waiting
// rules as push routing (locked or rate-exhausted resources; one task per resource).
// Claimed tasks go straight to `running` with a fresh fencing token and task.claimed events.
// No work, no lock: an idle poll (nothing queued that this agent could take) reads one index
// bucket walk and returns, without queueing behind the event counter that every writer takes
// (on Neo4j, a dozen idle agents polling made every writer wait). When there is a candidate,
// the counter is locked and everything is read again after the lock; the walk then starts
// at the highest priority the check found (the buckets above it were empty), so a busy claim
// does not walk the empty top of the queue twice.
MATCH (g:Agent {id: coalesce($agentId, '')})
WHERE g.status = 'online' AND g.active < g.maxConcurrency
UNWIND range(100, 0, -1) AS gp
UNWIND [x IN g.capabilities WHERE $capability IS NULL OR x = $capability] AS gcap
WITH gp, gcap + '|' + toString(gp) AS gk
MATCH (gt:Task {qk: gk})
WHERE gt.notBefore <= $now
WITH gp AS top
LIMIT 1
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c, top
MATCH (a:Agent {id: coalesce($agentId, '')})
WHERE a.status = 'online' AND a.active < a.maxConcurrency AND (a.pHours IS NULL OR ($hour >= a.pHours[0] AND $hour < a.pHours[1]))
OPTIONAL MATCH (r:Resource)-[l:LOCKED_BY]->(:Task)
WHERE l.until > $now
WITH c, top, a, collect(DISTINCT r.id) AS locked
OPTIONAL MATCH (r:Resource)
WHERE r.rateLimit > 0
  AND r.tokens + ($now - r.refilledAt) * toFloat(r.rateLimit) / r.windowMs < 1.0
WITH c, top, a, locked, collect(r.id) AS throttled
WITH c, top, a, locked + throttled AS blocked
OPTIONAL MATCH (bx:Budget {exhausted: true})
WITH c, top, a, blocked, [b IN collect(bx) | b.scope + ':' + b.targetId] AS held
WHERE NOT ('agent:' + a.id) IN held AND NOT ('team:' + coalesce(a.team, '')) IN held
// Walk the agent's queue buckets (qk = capability|priority) from priority `top` down. The
// walk is a read-only subquery so that its LIMIT stops the walk: after the counter's SET,
// Neo4j plans a top-level LIMIT as ExhaustiveLimit, which read every queued task of the
// agent's capabilities (30,000 rows, 170 ms a claim at 100k queued) to keep one.
CALL {
  WITH top, a, blocked, held
  UNWIND range(top, 0, -1) AS p
  UNWIND [x IN a.capabilities WHERE $capability IS NULL OR x = $capability] AS cap
  WITH a, blocked, held, p, cap
  WHERE NOT cap IN coalesce(a.pDenyCaps, [])
    AND (a.pAllowCaps IS NULL OR cap IN a.pAllowCaps)
  WITH a, blocked, held, cap + '|' + toString(p) AS k
  MATCH (t:Task {qk: k})
  WHERE t.notBefore <= $now
    AND (size(t.resources) = 0 OR none(x IN t.resources WHERE x IN blocked))
    AND NOT ('run:' + coalesce(t.runId, '')) IN held
    AND none(d IN coalesce(t.domains, []) WHERE d IN coalesce(a.pDenyDomains, []))
    AND (a.pAllowDomains IS NULL OR all(d IN coalesce(t.domains, []) WHERE d IN a.pAllowDomains))
    AND none(r IN t.resources WHERE r IN coalesce(a.pDenyResources, []))
    AND (a.pAllowResources IS NULL OR all(r IN t.resources WHERE r IN a.pAllowResources))
  RETURN t
  LIMIT $max
}
WITH c, a, collect(t) AS cands
WITH c, a, cands,
     reduce(acc = [[], []], t IN cands |
       CASE WHEN size(t.resources) = 0 THEN acc
            WHEN any(x IN t.resources WHERE x IN acc[0]) THEN [acc[0], acc[1] + [t.id]]
            ELSE [acc[0] + t.resources, acc[1]] END)[1] AS clashing
WITH c, a, [t IN cands WHERE NOT t.id IN clashing][0..(a.maxConcurrency - a.active)] AS mine
WHERE size(mine) > 0
SET a.active = a.active + size(mine)
WITH c, a, mine, c.seq AS base
SET c.seq = base + size(mine)
WITH a, mine, base
UNWIND range(0, size(mine) - 1) AS i
WITH a, base + i + 1 AS seq, mine[i] AS t
SET t.status = 'running', t.qk = null, t.agentId = a.id, t.attempts = t.attempts + 1,
    t.fence = t.fence + 1, t.leaseUntil = $now + $leaseMs, t.assignedAt = $now,
    t.startedAt = $now, t.updatedAt = $now
CREATE (t)-[:ASSIGNED_TO {attempt: t.attempts, fence: t.fence, at: $now, via: 'claim'}]->(a)
// The claim's Decision span is this ASSIGNED_TO edge itself (by the agent, at, fence, via):
// a separate node per single claim cost ~17% of a claim's latency (bench/tracing.py).
CREATE (e:Event {seq: seq, type: 'task.claimed', at: $now, actor: $actor, subject: t.id,
                 agentId: a.id,
                 payload: '{"agentId":"' + a.id + '","fence":' + toString(t.fence) +
                          ',"capability":"' + t.capability + '"}'})
CREATE (e)-[:ON]->(t)
WITH t
OPTIONAL MATCH (t)-[:USES]->(r:Resource)
FOREACH (_ IN CASE WHEN r IS NULL THEN [] ELSE [1] END |
  CREATE (r)-[:LOCKED_BY {until: t.leaseUntil, priority: t.priority, auto: true,
                          at: $now}]->(t))
WITH t, count(r) AS _
RETURN properties(t) AS task
ORDER BY t.priority DESC
