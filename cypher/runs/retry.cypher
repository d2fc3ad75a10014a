// retryRun: a failed or cancelled run runs again from where it stopped: steps that failed
// or were cancelled wait again (their next attempt gets a new task); done and skipped steps
// keep their results and never run twice, except a compensation step that was skipped
// without running (not needed when the run ended): it waits again, ready to compensate. No row back: unknown run or it is not failed /
// cancelled.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (r:Run {id: coalesce($runId, '')})
WHERE r.status IN ['failed', 'cancelled']
SET r.status = 'running', r.error = null, r.endedAt = null, r.updatedAt = $now,
    r.retries = coalesce(r.retries, 0) + 1
WITH c, r
OPTIONAL MATCH (s:Step)-[:STEP_OF]->(r)
WHERE s.status IN ['failed', 'cancelled', 'running', 'awaiting_approval']
   OR (s.status = 'skipped' AND s.compensation = true AND s.taskId IS NULL)
SET s.status = 'waiting', s.taskId = null, s.proposalId = null, s.note = null,
    s.endedAt = null, s.updatedAt = $now
WITH DISTINCT c, r
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'run.retried', at: $now, actor: $actor, subject: r.id,
                 payload: $eventPayload})
CREATE (e)-[:ON]->(r)
RETURN properties(r) AS run
