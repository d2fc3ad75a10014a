// A reader was shown these facts: a Decision span that SAW exactly them (the fact ids the
// context read returned, in the order returned), ON the task it was working on and IN that
// task's run when given, BY the agent (or the human principal) who read. A read is attached
// to a task only when the reader is that task's agent.
// Serialise with every other writer first (Neo4j: the counter's write lock before any
// node this statement touches, so lock order is the same everywhere and cannot deadlock).
MATCH (lk:Counter {name: 'event'})
SET lk._lk = timestamp()
WITH lk
OPTIONAL MATCH (t:Task {id: coalesce($taskId, '')})
WHERE $agentId IS NOT NULL AND t.agentId = $agentId
OPTIONAL MATCH (t)-[:PART_OF]->(run:Run)
OPTIONAL MATCH (a:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (h:Principal {id: coalesce($principalId, '')})
CREATE (d:Decision {id: $id, spanId: $id, traceId: coalesce(t.traceId, $traceId),
                    parentSpanId: t.spanId, name: 'context.read', startedAt: $now,
                    endedAt: $now, taskId: t.id, runId: t.runId, agentId: a.id,
                    principalId: h.id, factIds: $factIds, attrs: $attrs})
FOREACH (x IN CASE WHEN a IS NULL THEN [] ELSE [a] END | CREATE (d)-[:BY]->(x))
FOREACH (x IN CASE WHEN a IS NULL AND h IS NOT NULL THEN [h] ELSE [] END | CREATE (d)-[:BY]->(x))
FOREACH (x IN CASE WHEN t IS NULL THEN [] ELSE [t] END | CREATE (d)-[:ON]->(x))
FOREACH (x IN CASE WHEN run IS NULL THEN [] ELSE [run] END | CREATE (d)-[:IN]->(x))
// One index lookup per fact id (`f.id IN $factIds` scans every Fact on FalkorDB); an empty
// list still gives the row that returns the Decision.
WITH d
UNWIND CASE WHEN size($factIds) = 0 THEN [''] ELSE $factIds END AS fid
OPTIONAL MATCH (f:Fact {id: fid})
FOREACH (x IN CASE WHEN f IS NULL THEN [] ELSE [f] END | CREATE (d)-[:SAW]->(x))
RETURN d.id AS id, count(f) AS saw
