// Push routing, one batch (policy enforced here: capabilities, hours, domains, resources). The best queued tasks (priority, then queue order) go to online agents
// with the capability and spare concurrency, least loaded first, then best success rate.
// A task waits while one of its resources is locked by another task or out of rate tokens,
// and within a batch at most one task takes each resource. Each assignment bumps the
// task's fencing token, locks its resources until the lease ends, and appends task.assigned.
// The task.assigned payload carries what the agent needs to start (kind, priority, payload:
// ids and kinds are restricted to JSON-safe characters, payload is JSON already), so a push
// needs no extra read. The task payload (any length) is spliced in with replace(), not `+`:
// FalkorDB truncates `a + b` to 511 characters when `a` is exactly 512 long (ids cannot hold
// '@', so the placeholder is unambiguous).
// Pull-only agents (mode 'pull') are never pushed work: they take it with tasks/claim.
// An agent serving several capabilities may be offered in several groups; the per-agent cut
// (`mine`, its best offers) keeps it within maxConcurrency, the surplus stays queued for the
// next batch, and no task of a surplus's capability with a lower priority overtakes it.
// No work, no write: the cheap check below ends the statement before the counter lock
// when there is nothing to do (an idle tick writes nothing, on either backend).
MATCH (g:Agent {status: 'online'})
WHERE g.active < g.maxConcurrency AND coalesce(g.mode, 'push') = 'push'
UNWIND g.capabilities AS gcap
WITH DISTINCT gcap
UNWIND range(100, 0, -1) AS gp
WITH gcap + '|' + toString(gp) AS gk
MATCH (gt:Task {qk: gk})
WHERE gt.notBefore <= $now
WITH gt
LIMIT 1
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
OPTIONAL MATCH (r:Resource)-[l:LOCKED_BY]->(:Task)
WHERE l.until > $now
WITH c, collect(DISTINCT r.id) AS locked
OPTIONAL MATCH (r:Resource)
WHERE r.rateLimit > 0
  AND r.tokens + ($now - r.refilledAt) * toFloat(r.rateLimit) / r.windowMs < 1.0
WITH c, locked, collect(r.id) AS throttled
WITH c, locked + throttled AS blocked
// Exhausted budgets stop new work under them: 'agent:<id>', 'team:<id>', 'run:<id>'.
OPTIONAL MATCH (bx:Budget {exhausted: true})
WITH c, blocked, [b IN collect(bx) | b.scope + ':' + b.targetId] AS held
MATCH (free:Agent {status: 'online'})
WHERE free.active < free.maxConcurrency AND coalesce(free.mode, 'push') = 'push'
UNWIND free.capabilities AS cap
WITH c, blocked, held, collect(DISTINCT cap) AS caps
// Queued tasks are indexed by qk = capability|priority: walk the buckets from priority 100
// down and stop at $batch, so the cost does not grow with the length of the queue.
// The walk is a read-only subquery so that its LIMIT stops it (a top-level LIMIT after the
// counter's SET is an ExhaustiveLimit on Neo4j: it read the whole queue for every batch).
CALL {
  WITH blocked, held, caps
  UNWIND range(100, 0, -1) AS p
  UNWIND caps AS cap
  WITH blocked, held, cap + '|' + toString(p) AS k
  MATCH (t:Task {qk: k})
  WHERE t.notBefore <= $now AND (size(t.resources) = 0 OR none(x IN t.resources WHERE x IN blocked))
    AND NOT ('run:' + coalesce(t.runId, '')) IN held
  RETURN t
  LIMIT $batch
}
WITH c, held, collect(t) AS cands
WITH c, held, cands,
     reduce(acc = [[], []], t IN cands |
       CASE WHEN size(t.resources) = 0 THEN acc
            WHEN any(x IN t.resources WHERE x IN acc[0]) THEN [acc[0], acc[1] + [t.id]]
            ELSE [acc[0] + t.resources, acc[1]] END)[1] AS clashing
UNWIND cands AS t
WITH c, held, t
WHERE NOT t.id IN clashing
WITH c, held, t.capability AS cap, collect(t) AS tasks
MATCH (a:Agent {status: 'online'})
WHERE cap IN a.capabilities AND a.active < a.maxConcurrency
  AND coalesce(a.mode, 'push') = 'push'
  AND NOT ('agent:' + a.id) IN held AND NOT ('team:' + coalesce(a.team, '')) IN held
  AND NOT cap IN coalesce(a.pDenyCaps, [])
  AND (a.pAllowCaps IS NULL OR cap IN a.pAllowCaps)
  AND (a.pHours IS NULL OR ($hour >= a.pHours[0] AND $hour < a.pHours[1]))
WITH c, tasks, a
ORDER BY (coalesce(a.done, 0) + 1.0) / (coalesce(a.done, 0) + coalesce(a.failed, 0) + 2.0) DESC,
         a.id ASC
WITH c, tasks, collect(a) AS agents
// Slots level by level: level L offers each agent that would then hold L+1 tasks, so the
// least loaded fill first (and, at equal load, the best success rate). Levels stop growing
// the list once there is a slot per task, and pairs are zipped in one list (no per-row list copies).
WITH c, tasks, agents,
     reduce(m = 1000000000, a IN agents | CASE WHEN a.active < m THEN a.active ELSE m END) AS lo,
     reduce(m = 0, a IN agents | CASE WHEN a.maxConcurrency > m THEN a.maxConcurrency ELSE m END)
       AS hi
WITH c, tasks,
     reduce(s = [], lvl IN range(lo, CASE WHEN hi - 1 < lo + size(tasks) - 1 THEN hi - 1
                                          ELSE lo + size(tasks) - 1 END) |
       CASE WHEN size(s) >= size(tasks) THEN s
            ELSE s + [a IN agents WHERE a.active <= lvl AND lvl < a.maxConcurrency] END) AS slots
UNWIND [i IN range(0, CASE WHEN size(tasks) < size(slots) THEN size(tasks) ELSE size(slots) END
                      - 1) | [tasks[i], slots[i]]] AS pair
WITH c, pair[0] AS t, pair[1] AS a
// Policy on what the task touches (the agent's materialised rules, see policies/refresh):
// a pair the policy forbids is dropped and the task waits for an allowed agent.
WHERE none(d IN coalesce(t.domains, []) WHERE d IN coalesce(a.pDenyDomains, []))
  AND (a.pAllowDomains IS NULL OR all(d IN coalesce(t.domains, []) WHERE d IN a.pAllowDomains))
  AND none(r IN t.resources WHERE r IN coalesce(a.pDenyResources, []))
  AND (a.pAllowResources IS NULL OR all(r IN t.resources WHERE r IN a.pAllowResources))
WITH c, a, t
ORDER BY t.priority DESC
WITH c, a, collect(t) AS offered
WITH c, a, offered[0..(a.maxConcurrency - a.active)] AS mine,
     offered[(a.maxConcurrency - a.active)..] AS surplus
// An agent offered more than it has room for keeps its best offers; the surplus waits for
// the next batch, and so does any lower-priority task of the same capability that went to
// another agent in this batch (otherwise it would overtake the surplus: a priority inversion).
WITH c, collect(a) AS chosen, collect(mine) AS mines, collect(surplus) AS surpluses
WITH c, chosen, mines, reduce(d = [], s IN surpluses | d + s) AS dropped
UNWIND range(0, size(chosen) - 1) AS i
WITH c, chosen[i] AS a,
     [t IN mines[i] WHERE none(d IN dropped WHERE d.capability = t.capability
                                               AND d.priority > t.priority)] AS mine
SET a.active = a.active + size(mine)
WITH c, a, mine
UNWIND mine AS t
SET t.status = 'assigned', t.qk = null, t.agentId = a.id, t.attempts = t.attempts + 1,
    t.fence = t.fence + 1, t.leaseUntil = $now + $leaseMs, t.assignedAt = $now,
    t.updatedAt = $now
CREATE (t)-[:ASSIGNED_TO {attempt: t.attempts, fence: t.fence, at: $now, via: 'route'}]->(a)
// Decision span (tracing on), kept small on this hot path: who was given / took / ended
// the task, when. Its trace, parent span and run are the task's (ON).
FOREACH (_ IN CASE WHEN $trace THEN [1] ELSE [] END |
  CREATE (d:Decision {id: t.id + '/' + toString(t.fence) + '/' + 'route', name: 'route',
                      at: $now, taskId: t.id, agentId: a.id})
  CREATE (d)-[:BY]->(a)
  CREATE (d)-[:ON]->(t))
WITH c, t
OPTIONAL MATCH (t)-[:USES]->(r:Resource)
FOREACH (_ IN CASE WHEN r IS NULL THEN [] ELSE [1] END |
  CREATE (r)-[:LOCKED_BY {until: t.leaseUntil, priority: t.priority, auto: true,
                          at: $now}]->(t))
WITH c, t, count(r) AS _
// The batch's events go out highest priority first: the log shows the order of hand-out.
ORDER BY t.priority DESC
WITH c, collect(t) AS done
WITH c, done, c.seq AS base
SET c.seq = base + size(done)
WITH base, done
UNWIND range(0, size(done) - 1) AS i
WITH base + i + 1 AS seq, done[i] AS t
CREATE (e:Event {seq: seq, type: 'task.assigned', at: $now, actor: 'router', subject: t.id,
                 payload: replace('{"agentId":"' + t.agentId + '","fence":' + toString(t.fence) +
                          ',"capability":"' + t.capability + '","kind":"' + t.kind +
                          '","priority":' + toString(t.priority) + ',"attempts":' +
                          toString(t.attempts) + ',"rounds":' + toString(coalesce(t.rounds, 0)) +
                          ',"runId":' + CASE WHEN t.runId IS NULL THEN 'null'
                                             ELSE '"' + t.runId + '"' END +
                          ',"parentId":' + CASE WHEN t.parentId IS NULL THEN 'null'
                                                ELSE '"' + t.parentId + '"' END +
                          ',"traceId":"' + coalesce(t.traceId, '') + '","spanId":"' +
                          coalesce(t.spanId, '') + '"' +
                          ',"payload":@payload@}', '@payload@', t.payload)})
CREATE (e)-[:ON]->(t)
RETURN count(e) AS assigned
