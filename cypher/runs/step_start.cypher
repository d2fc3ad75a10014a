// A waiting step starts: it now runs the task (or waits on the proposal) the engine made
// for it, with dedupKey run:<run>:<step>:<attempt>, so a crash between making the task and
// this statement makes the same task again, never a second one. The task is PART_OF the run
// and FOR_STEP the step. $status is running, or awaiting_approval for a human checkpoint.
// The engine adopts only what it made for this very step: a task with `engine: true` and
// this step's dedupKey, and (for a checkpoint) the engine's own proposal on that task.
// No row back: the run is not running, the step already started (another replica won), or
// the task / proposal is not the engine's own for this step.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (s:Step {id: $runId + '/' + $stepId})-[:STEP_OF]->(r:Run {id: coalesce($runId, '')})
WHERE r.status = 'running' AND s.status = 'waiting'
MATCH (t:Task {id: coalesce($taskId, '')})
WHERE t.engine = true AND t.dedupKey = 'run:' + $runId + ':' + $stepId + ':' + toString(s.attempt + 1)
OPTIONAL MATCH (p0:Proposal {id: coalesce($proposalId, '')})-[:FOR]->(t)
WITH c, r, s, t, p0
WHERE $proposalId IS NULL OR p0.engine = true
// A step starts no later than its task was made (made before a crash, adopted now).
SET s.status = $status, s.taskId = t.id, s.proposalId = $proposalId,
    s.attempt = s.attempt + 1, s.updatedAt = $now, r.updatedAt = $now,
    s.startedAt = CASE WHEN t.createdAt < $now THEN t.createdAt ELSE $now END
CREATE (t)-[:FOR_STEP]->(s)
CREATE (s)-[:RAN]->(t)
MERGE (t)-[:PART_OF]->(r)
// The step's span (its task's spans are its children), ended by runs/step_finish.
CREATE (sd:Decision {id: s.id + '/' + toString(s.attempt), spanId: s.id + '/' + toString(s.attempt),
                     traceId: r.traceId, parentSpanId: r.spanId, name: 'step ' + s.stepId,
                     startedAt: s.startedAt, runId: r.id, taskId: t.id, attrs: $attrs})
CREATE (sd)-[:IN]->(r)
CREATE (sd)-[:PRODUCED]->(t)
SET s.spanId = sd.id
WITH c, r, s
OPTIONAL MATCH (p:Proposal {id: coalesce($proposalId, '')})
FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END | CREATE (s)-[:ASKED]->(p))
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'step.started', at: $now, actor: 'workflow',
                 subject: r.id, payload: $eventPayload})
CREATE (e)-[:ON]->(r)
RETURN properties(s) AS step
