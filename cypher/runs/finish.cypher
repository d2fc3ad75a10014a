// A running run ends: done (every step done or skipped) or failed (a step failed under
// onFailure fail, or after its compensation). The run (and its span) ends no earlier than
// any of its steps and tasks did. Steps still waiting never ran: a compensation step (or
// any step of a run that succeeded) is skipped, not needed; another step of a failed run is
// cancelled. No row back: the run had already ended.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (r:Run {id: coalesce($runId, '')})
WHERE r.status = 'running'
OPTIONAL MATCH (t:Task {runId: r.id})
WITH c, r, collect(t.endedAt) AS taskEnds
OPTIONAL MATCH (s:Step)-[:STEP_OF]->(r)
WITH c, r, taskEnds, collect(s.endedAt) AS stepEnds
WITH c, r, reduce(m = $now, x IN taskEnds + stepEnds | CASE WHEN x > m THEN x ELSE m END)
     AS endedAt
SET r.status = $status, r.result = $result, r.error = $error, r.endedAt = endedAt,
    r.updatedAt = $now
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'run.' + CASE $status WHEN 'done' THEN 'completed'
                                                         ELSE $status END,
                 at: $now, actor: 'workflow', subject: r.id, payload: $eventPayload})
CREATE (e)-[:ON]->(r)
WITH r
OPTIONAL MATCH (w:Step)-[:STEP_OF]->(r)
WHERE w.status = 'waiting'
SET w.status = CASE WHEN $status = 'done' OR w.compensation = true THEN 'skipped'
                    ELSE 'cancelled' END,
    w.note = CASE WHEN $status = 'done' OR w.compensation = true
                  THEN 'not needed: the run ' + CASE $status WHEN 'done' THEN 'succeeded'
                                                            ELSE $status END
                  ELSE 'run ' + $status END,
    w.endedAt = r.endedAt, w.updatedAt = $now
WITH DISTINCT r
OPTIONAL MATCH (rd:Decision {id: r.spanId})
SET rd.endedAt = r.endedAt, rd.status = $status
RETURN properties(r) AS run
