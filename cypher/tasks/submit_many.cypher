// Bulk submit of plain tasks (no dedupKey, no entities: nothing to merge or defer), one
// statement for the whole batch; each gets its own task.queued event. Writes nothing when a
// parent task ($parents: the distinct parent ids) does not exist. A task with a run is
// PART_OF it (sub-tasks inherit their parent's run).
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
OPTIONAL MATCH (p:Task)
WHERE p.id IN $parents
WITH c, count(p) AS found
WHERE found = size($parents)
WITH c, c.seq AS base
SET c.seq = base + size($rows)
WITH base
UNWIND range(0, size($rows) - 1) AS i
WITH base + i + 1 AS seq, $rows[i] AS r
CREATE (t:Task {id: r.id, kind: r.kind, capability: r.capability, priority: r.priority,
                payload: r.payload, contentHash: r.contentHash, resources: r.resources,
                entities: [], deadline: r.deadline, maxAttempts: r.maxAttempts, attempts: 0,
                fence: 0, costUsd: 0.0, errors: [], submittedBy: $actor, runId: r.runId,
                parentId: r.parentId, spanId: r.spanId, traceId: r.traceId,
                parentSpanId: r.parentSpanId, createdAt: $now, queuedAt: $now, notBefore: $now,
                updatedAt: $now, status: 'queued', qk: r.capability + '|' + toString(r.priority)})
FOREACH (rid IN r.resources |
  MERGE (x:Resource {id: rid})
  ON CREATE SET x.createdAt = $now
  CREATE (t)-[:USES]->(x))
WITH seq, t, r
OPTIONAL MATCH (p:Task {id: r.parentId})
FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END | CREATE (t)-[:CHILD_OF]->(p))
// A sub-task belongs to its parent's workflow run unless it names one.
SET t.runId = coalesce(t.runId, p.runId),
    t.traceId = CASE WHEN r.traced THEN t.traceId ELSE coalesce(p.traceId, t.traceId) END,
    t.parentSpanId = coalesce(t.parentSpanId, p.spanId)
WITH seq, t
OPTIONAL MATCH (run:Run {id: t.runId})
FOREACH (_ IN CASE WHEN run IS NULL THEN [] ELSE [1] END | CREATE (t)-[:PART_OF]->(run))
CREATE (e:Event {seq: seq, type: 'task.queued', at: $now, actor: $actor, subject: t.id,
                 payload: '{"capability":"' + t.capability + '","priority":' +
                          toString(t.priority) + ',"into":null}'})
CREATE (e)-[:ON]->(t)
RETURN properties(t) AS task
