// cancelRun: a running run and its unfinished steps are cancelled in one statement; the
// engine then cancels the run's live tasks (each through tasks/cancel, which tells agents).
// A step whose task is already done keeps its outcome (done, with the task's result); steps
// and their spans end no earlier than their tasks did, and the run's span ends with it.
// No row back: unknown run or it had already ended.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (r:Run {id: coalesce($runId, '')})
WHERE r.status = 'running'
SET r.status = 'cancelled', r.error = $reason, r.endedAt = $now, r.updatedAt = $now
WITH c, r
OPTIONAL MATCH (s:Step)-[:STEP_OF]->(r)
WHERE NOT s.status IN ['done', 'failed', 'skipped', 'cancelled']
OPTIONAL MATCH (t:Task {id: s.taskId})
WITH c, r, s, t, t.status = 'done' AS kept
SET s.status = CASE WHEN kept THEN 'done' ELSE 'cancelled' END,
    s.result = CASE WHEN kept THEN t.result ELSE s.result END,
    s.note = CASE WHEN kept THEN s.note ELSE $reason END,
    s.endedAt = CASE WHEN t.endedAt > $now THEN t.endedAt ELSE $now END, s.updatedAt = $now
WITH c, r, s
OPTIONAL MATCH (sd:Decision {id: s.spanId})
SET sd.endedAt = s.endedAt, sd.status = s.status
WITH DISTINCT c, r
OPTIONAL MATCH (rd:Decision {id: r.spanId})
SET rd.endedAt = $now, rd.status = 'cancelled'
WITH DISTINCT c, r
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'run.cancelled', at: $now, actor: $actor, subject: r.id,
                 payload: $eventPayload})
CREATE (e)-[:ON]->(r)
RETURN properties(r) AS run
