// Start a run of a workflow version: the Run, one waiting Step per step (with the ids it
// waits for), INSTANCE_OF the version, TRIGGERED_BY the event that started it (if any) and
// SUB_RUN_OF a parent run (if any); steps point AFTER the steps they wait for. The run id is chosen by the caller: for a trigger it is
// derived from (trigger, event key), so an event delivered twice starts one run.
// No row back: a run with this id exists already (or the workflow version does not).
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (w:Workflow {id: coalesce($workflowId, '')})
OPTIONAL MATCH (old:Run {id: coalesce($id, '')})
WITH c, w, old
WHERE old IS NULL
CREATE (r:Run {id: $id, workflowId: w.id, workflow: w.name, version: w.version,
               status: 'running', input: $input, trigger: $trigger, triggerId: $triggerId,
               startedAt: $now, updatedAt: $now, deadline: $deadline, budgetUsd: $budgetUsd,
               startedBy: $actor, accountable: $actor, traceId: $traceId,
               parentRunId: $parentRunId})
CREATE (r)-[:INSTANCE_OF]->(w)
FOREACH (s IN $steps |
  CREATE (:Step {id: $id + '/' + s.stepId, runId: $id, stepId: s.stepId, kind: s.kind, index: s.index,
                 deps: s.deps, compensation: s.compensation, status: 'waiting', attempt: 0,
                 createdAt: $now,
                 updatedAt: $now})-[:STEP_OF]->(r))
WITH c, r
OPTIONAL MATCH (sa:Step)-[:STEP_OF]->(r)
OPTIONAL MATCH (sb:Step)-[:STEP_OF]->(r)
WHERE sb.stepId IN sa.deps
FOREACH (_ IN CASE WHEN sb IS NULL THEN [] ELSE [1] END | CREATE (sa)-[:AFTER]->(sb))
WITH DISTINCT c, r
// The run's root span: every step, task and decision of the run is in its trace.
SET r.spanId = r.id + '/run'
CREATE (:Decision {id: r.id + '/run', spanId: r.id + '/run', traceId: r.traceId,
                   parentSpanId: $parentSpanId, name: 'run ' + r.workflow, startedAt: $now,
                   runId: r.id, principalId: $actor})-[:IN]->(r)
WITH c, r
OPTIONAL MATCH (ev:Event {seq: coalesce($eventSeq, '')})
FOREACH (_ IN CASE WHEN ev IS NULL THEN [] ELSE [1] END | CREATE (r)-[:TRIGGERED_BY]->(ev))
WITH c, r
OPTIONAL MATCH (parent:Run {id: coalesce($parentRunId, '')})
FOREACH (_ IN CASE WHEN parent IS NULL THEN [] ELSE [1] END | CREATE (r)-[:SUB_RUN_OF]->(parent))
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'run.started', at: $now, actor: $actor, subject: r.id,
                 payload: $eventPayload})
CREATE (e)-[:ON]->(r)
RETURN properties(r) AS run
