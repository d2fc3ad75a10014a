// A running run ends: done (every step done or skipped) or failed (a step failed under
// onFailure fail, or after its compensation). No row back: the run had already ended.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (r:Run {id: $runId})
WHERE r.status = 'running'
SET r.status = $status, r.result = $result, r.error = $error, r.endedAt = $now,
    r.updatedAt = $now
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'run.' + CASE $status WHEN 'done' THEN 'completed'
                                                         ELSE $status END,
                 at: $now, actor: 'workflow', subject: r.id, payload: $eventPayload})
CREATE (e)-[:ON]->(r)
WITH r
OPTIONAL MATCH (rd:Decision {id: r.spanId})
SET rd.endedAt = $now, rd.status = $status
RETURN properties(r) AS run
