// Submit a task. Under the event-counter lock one statement decides what it becomes:
//  - same dedupKey as an earlier task and the same content, or that task has ended:
//    an idempotent retry -> no row back (the caller returns the existing task, nothing new);
//  - same dedupKey as an active task but other content: a new task `merged`, MERGED_INTO it
//    (its submitter gets the survivor's outcome);
//  - same capability on an entity an active task touches: `deferred`, DEFERRED_BEHIND the
//    newest such task (a FIFO chain, released by tasks/release_deferred);
//  - otherwise `queued`.
// A task with a workflow run is PART_OF it; a sub-task inherits its parent's run. Its trace
// is the caller's (traceparent), else its parent's or its run's, else a new one.
// No row back also when an entity or the parent task is unknown; the caller tells which.
// dedupKeys are scoped: a client's match only its own submissions (same submittedBy, not the
// engine's), and the workflow engine's ($engine) match only tasks the engine made, which
// carry `engine: true` from this statement on (no client can set it, so none can squat one).
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
OPTIONAL MATCH (x:Entity)
WHERE x.id IN $entities
OPTIONAL MATCH (x)-[:IN_DOMAIN]->(dm:Domain)
WITH c, collect(DISTINCT x) AS ents, collect(DISTINCT dm.id) AS domains
WHERE size(ents) = size($entities)
OPTIONAL MATCH (p:Task {id: coalesce($parentId, '')})
WITH c, ents, domains, p
WHERE $parentId IS NULL OR p IS NOT NULL
OPTIONAL MATCH (same:Task {dedupKey: coalesce($dedupKey, '')})
WHERE $dedupKey IS NOT NULL AND same.status <> 'merged'
  AND coalesce(same.engine, false) = $engine AND ($engine OR same.submittedBy = $actor)
WITH c, ents, domains, p, same
ORDER BY same.createdAt DESC
LIMIT 1
WITH c, ents, domains, p, same,
     same IS NOT NULL AND NOT same.status IN ['done', 'failed', 'dead', 'cancelled'] AS live
UNWIND CASE WHEN same IS NULL OR (live AND same.contentHash <> $contentHash) THEN [1]
            ELSE [] END AS _
// From the entities to the tasks that touch them, never from the tasks of the capability
// (a plan that scanned every queued task of it made a submit O(queue): 13 ms at 40,000).
UNWIND CASE WHEN same IS NULL AND size(ents) > 0 THEN ents ELSE [null] END AS x
OPTIONAL MATCH (x)<-[:TOUCHES]-(o:Task)
WHERE o.capability = $capability
  AND o.status IN ['queued', 'assigned', 'running', 'awaiting_approval', 'deferred']
WITH c, ents, domains, p, same, o
ORDER BY o.createdAt DESC
LIMIT 1
OPTIONAL MATCH (run:Run {id: coalesce($runId, p.runId, '')})
CREATE (t:Task {id: $id, kind: $kind, capability: $capability, priority: $priority,
                payload: $payload, contentHash: $contentHash, dedupKey: $dedupKey,
                resources: $resources, entities: $entities, deadline: $deadline,
                maxAttempts: $maxAttempts, attempts: 0, fence: 0, costUsd: 0.0,
                errors: [], submittedBy: $actor, engine: $engine, runId: coalesce($runId, p.runId), parentId: $parentId,
                traceId: coalesce($traceId, p.traceId, run.traceId, $newTraceId),
                spanId: $spanId, parentSpanId: coalesce($parentSpanId, p.spanId, run.spanId),
                createdAt: $now, queuedAt: $now, notBefore: $now, updatedAt: $now,
                endedAt: CASE WHEN same IS NOT NULL THEN $now END,
                status: CASE WHEN same IS NOT NULL THEN 'merged'
                             WHEN o IS NOT NULL THEN 'deferred' ELSE 'queued' END})
FOREACH (_ IN CASE WHEN same IS NULL THEN [] ELSE [1] END |
  CREATE (t)-[:MERGED_INTO {rule: 'same dedupKey as an active task', at: $now}]->(same))
FOREACH (_ IN CASE WHEN o IS NULL THEN [] ELSE [1] END |
  CREATE (t)-[:DEFERRED_BEHIND {rule: 'same capability on an entity it touches',
                                at: $now}]->(o))
FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END | CREATE (t)-[:CHILD_OF]->(p))
FOREACH (_ IN CASE WHEN run IS NULL THEN [] ELSE [1] END | CREATE (t)-[:PART_OF]->(run))
FOREACH (x IN ents | CREATE (t)-[:TOUCHES]->(x))
FOREACH (rid IN $resources |
  MERGE (r:Resource {id: rid})
  ON CREATE SET r.createdAt = $now
  CREATE (t)-[:USES]->(r))
SET c.seq = c.seq + 1
SET t.domains = domains,
    t.qk = CASE WHEN t.status = 'queued' THEN t.capability + '|' + toString(t.priority) ELSE null END
CREATE (e:Event {seq: c.seq, type: 'task.' + t.status, at: $now, actor: $actor,
                 subject: t.id,
                 payload: '{"capability":"' + t.capability + '","priority":' +
                          toString(t.priority) + ',"into":' +
                          CASE WHEN same IS NOT NULL THEN '"' + same.id + '"'
                               WHEN o IS NOT NULL THEN '"' + o.id + '"' ELSE 'null' END +
                          '}'})
CREATE (e)-[:ON]->(t)
RETURN properties(t) AS task, same.id AS mergedInto, o.id AS deferredBehind
