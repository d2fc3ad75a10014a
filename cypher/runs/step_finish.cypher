// A step ends ($status: done | failed | skipped | cancelled | awaiting_approval) from one
// of the statuses in $allowed, with its result (JSON) and a note saying why. A supervisor's
// agent becomes the run's accountable party ($accountable). A join's merge is recorded as a
// Merge node IN the run that CHOSE the fact behind the winning finding and CONSIDERED the
// others (facts the join's input tasks asserted under the merge key, with their CONTRADICTS
// edges from the context layer).
// The step (and its span) ends no earlier than its task did: an engine whose clock reading
// is older than the task's end (a long pass, another replica's clock) never makes a task
// outlast its step.
// No row back: the run is not running or the step is no longer in $allowed.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (s:Step {id: $runId + '/' + $stepId})-[:STEP_OF]->(r:Run {id: coalesce($runId, '')})
WHERE r.status = 'running' AND s.status IN $allowed
OPTIONAL MATCH (t:Task {id: s.taskId})
WITH c, s, r, CASE WHEN $status = 'awaiting_approval' THEN null
                   WHEN t.endedAt > $now THEN t.endedAt ELSE $now END AS endedAt
SET s.status = $status, s.result = $result, s.note = $note, s.updatedAt = $now,
    s.proposalId = coalesce($proposalId, s.proposalId), s.endedAt = endedAt,
    r.updatedAt = $now, r.accountable = coalesce($accountable, r.accountable)
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'step.' + $status, at: $now, actor: 'workflow',
                 subject: r.id, payload: $eventPayload})
CREATE (e)-[:ON]->(r)
WITH s, r
OPTIONAL MATCH (sd:Decision {id: s.spanId})
SET sd.endedAt = s.endedAt, sd.status = $status
WITH s, r
FOREACH (m IN CASE WHEN $merge IS NULL THEN [] ELSE [$merge] END |
  CREATE (:Merge {id: $runId + '/' + $stepId + '/merge', runId: $runId, stepId: $stepId,
                  key: m.key, strategy: m.strategy, chosenStep: m.chosenStep,
                  value: m.value, agreed: m.agreed, reason: m.reason, decidedBy: m.decidedBy,
                  at: $now})-[:IN]->(r))
WITH s, r
OPTIONAL MATCH (m:Merge {id: $runId + '/' + $stepId + '/merge'})
FOREACH (_ IN CASE WHEN m IS NULL THEN [] ELSE [1] END |
  MERGE (s)-[:MERGED]->(m)
  MERGE (md:Decision {id: m.id})
  ON CREATE SET md.spanId = m.id, md.traceId = r.traceId, md.parentSpanId = r.spanId,
                md.name = 'merge ' + s.stepId, md.startedAt = $now, md.endedAt = $now,
                md.runId = r.id, md.principalId = m.decidedBy,
                md.attrs = '{"strategy":"' + m.strategy + '","chosenStep":"' +
                           coalesce(m.chosenStep, '') + '"}'
  MERGE (md)-[:IN]->(r)
  MERGE (md)-[:PRODUCED]->(m))
WITH s, r, m
OPTIONAL MATCH (f:Fact)-[:DERIVED_FROM]->(t:Task)
WHERE m IS NOT NULL AND t.id IN $mergeTasks AND f.key = m.key
OPTIONAL MATCH (md:Decision {id: m.id})
FOREACH (_ IN CASE WHEN f IS NOT NULL AND md IS NOT NULL THEN [1] ELSE [] END |
  MERGE (md)-[:SAW]->(f))
FOREACH (_ IN CASE WHEN f IS NOT NULL AND t.id = $chosenTask THEN [1] ELSE [] END |
  MERGE (m)-[:CHOSE]->(f))
FOREACH (_ IN CASE WHEN f IS NOT NULL AND t.id <> $chosenTask THEN [1] ELSE [] END |
  MERGE (m)-[:CONSIDERED]->(f))
RETURN DISTINCT properties(s) AS step
