// Push routing, one batch. The best queued tasks (priority, then age) go to online agents
// with the capability and spare concurrency, least loaded first, then best success rate.
// A task waits while one of its resources is locked by another task or out of rate tokens,
// and within a batch at most one task takes each resource. Each assignment bumps the
// task's fencing token, locks its resources until the lease ends, and appends task.assigned.
// An agent serving several capabilities may be offered in several groups; the per-agent cut
// (`mine`) keeps it within maxConcurrency, the surplus stays queued for the next batch.
MATCH (c:Counter {name: 'event'})
SET c._lk = coalesce(c._lk, 0) + 1
WITH c
OPTIONAL MATCH (r:Resource)-[l:LOCKED_BY]->(:Task)
WHERE l.until > $now
WITH c, collect(DISTINCT r.id) AS locked
OPTIONAL MATCH (r:Resource)
WHERE r.rateLimit > 0
  AND r.tokens + ($now - r.refilledAt) * toFloat(r.rateLimit) / r.windowMs < 1.0
WITH c, locked, collect(r.id) AS throttled
WITH c, locked + throttled AS blocked
MATCH (t:Task {status: 'queued'})
WHERE t.notBefore <= $now AND (size(t.resources) = 0 OR none(x IN t.resources WHERE x IN blocked))
WITH c, t
ORDER BY t.priority DESC, t.queuedAt ASC
LIMIT $batch
WITH c, collect(t) AS cands
WITH c, cands,
     reduce(acc = [[], []], t IN cands |
       CASE WHEN size(t.resources) = 0 THEN acc
            WHEN any(x IN t.resources WHERE x IN acc[0]) THEN [acc[0], acc[1] + [t.id]]
            ELSE [acc[0] + t.resources, acc[1]] END)[1] AS clashing
UNWIND cands AS t
WITH c, t
WHERE NOT t.id IN clashing
WITH c, t.capability AS cap, collect(t) AS tasks
MATCH (a:Agent {status: 'online'})
WHERE cap IN a.capabilities AND a.active < a.maxConcurrency
UNWIND range(a.active, CASE WHEN a.maxConcurrency < a.active + size(tasks)
                            THEN a.maxConcurrency ELSE a.active + size(tasks) END - 1) AS load
WITH c, cap, tasks, a, load
ORDER BY load ASC,
         (coalesce(a.done, 0) + 1.0) / (coalesce(a.done, 0) + coalesce(a.failed, 0) + 2.0) DESC,
         a.id ASC
WITH c, cap, tasks, collect(a) AS slots
UNWIND range(0, CASE WHEN size(tasks) < size(slots) THEN size(tasks) ELSE size(slots) END - 1)
       AS i
WITH c, tasks[i] AS t, slots[i] AS a
WITH c, a, collect(t) AS offered
WITH c, a, offered[0..(a.maxConcurrency - a.active)] AS mine
SET a.active = a.active + size(mine)
WITH c, a, mine
UNWIND mine AS t
SET t.status = 'assigned', t.agentId = a.id, t.attempts = t.attempts + 1,
    t.fence = t.fence + 1, t.leaseUntil = $now + $leaseMs, t.assignedAt = $now,
    t.updatedAt = $now
CREATE (t)-[:ASSIGNED_TO {attempt: t.attempts, fence: t.fence, at: $now, via: 'route'}]->(a)
WITH c, t
OPTIONAL MATCH (t)-[:USES]->(r:Resource)
FOREACH (_ IN CASE WHEN r IS NULL THEN [] ELSE [1] END |
  CREATE (r)-[:LOCKED_BY {until: t.leaseUntil, priority: t.priority, auto: true,
                          at: $now}]->(t))
WITH c, t, count(r) AS _
WITH c, collect(t) AS done
WITH c, done, c.seq AS base
SET c.seq = base + size(done)
WITH base, done
UNWIND range(0, size(done) - 1) AS i
WITH base + i + 1 AS seq, done[i] AS t
CREATE (e:Event {seq: seq, type: 'task.assigned', at: $now, actor: 'router', subject: t.id,
                 payload: '{"agentId":"' + t.agentId + '","fence":' + toString(t.fence) +
                          ',"capability":"' + t.capability + '"}'})
CREATE (e)-[:ON]->(t)
RETURN count(e) AS assigned
