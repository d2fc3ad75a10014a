// cancelRun: a running run and its unfinished steps are cancelled in one statement; the
// engine then cancels the run's live tasks (each through tasks/cancel, which tells agents).
// No row back: unknown run or it had already ended.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (r:Run {id: $runId})
WHERE r.status = 'running'
SET r.status = 'cancelled', r.error = $reason, r.endedAt = $now, r.updatedAt = $now
WITH c, r
OPTIONAL MATCH (s:Step)-[:STEP_OF]->(r)
WHERE NOT s.status IN ['done', 'failed', 'skipped', 'cancelled']
SET s.status = 'cancelled', s.endedAt = $now, s.updatedAt = $now, s.note = $reason
WITH DISTINCT c, r
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'run.cancelled', at: $now, actor: $actor, subject: r.id,
                 payload: $eventPayload})
CREATE (e)-[:ON]->(r)
RETURN properties(r) AS run
