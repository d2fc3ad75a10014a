// A live step the engine no longer needs is stopped ($status: cancelled when the run is
// failing, skipped when a join went ahead without it) from one of the statuses in $allowed,
// unless its task has finished: the engine cancels the step's task first, so the task's
// status read here is final, and a step whose task is done ends done with the task's result
// (it keeps its outcome; the event says step.done, with $donePayload). The step (and its
// span) ends no earlier than its task did.
// No row back: the run is not running or the step is no longer in $allowed.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (s:Step {id: $runId + '/' + $stepId})-[:STEP_OF]->(r:Run {id: coalesce($runId, '')})
WHERE r.status = 'running' AND s.status IN $allowed
OPTIONAL MATCH (t:Task {id: s.taskId})
WITH c, s, r, t, CASE WHEN t.status = 'done' THEN 'done' ELSE $status END AS outcome,
     CASE WHEN t.endedAt > $now THEN t.endedAt ELSE $now END AS endedAt
SET s.status = outcome, s.result = CASE WHEN outcome = 'done' THEN t.result END,
    s.note = CASE WHEN outcome = 'done' THEN null ELSE $note END, s.endedAt = endedAt,
    s.updatedAt = $now, r.updatedAt = $now
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'step.' + outcome, at: $now, actor: 'workflow',
                 subject: r.id,
                 payload: CASE WHEN outcome = 'done' THEN $donePayload ELSE $eventPayload END})
CREATE (e)-[:ON]->(r)
WITH s, endedAt
OPTIONAL MATCH (sd:Decision {id: s.spanId})
SET sd.endedAt = endedAt, sd.status = s.status
RETURN properties(s) AS step
