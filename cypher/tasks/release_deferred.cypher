// Scheduler job: a deferred task whose blocker has ended goes back to the queue, keeping
// its original place (queuedAt = when it was submitted). The DEFERRED_BEHIND edge stays as
// history, stamped with when it was released.
// No work, no write: the cheap check below ends the statement before the counter lock
// when there is nothing to do (an idle tick writes nothing, on either backend).
MATCH (g:Task {status: 'deferred'})-[:DEFERRED_BEHIND]->(go:Task)
WHERE go.status IN ['done', 'failed', 'dead', 'cancelled', 'merged']
WITH g
LIMIT 1
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (d:Task {status: 'deferred'})-[b:DEFERRED_BEHIND]->(o:Task)
WHERE o.status IN ['done', 'failed', 'dead', 'cancelled', 'merged']
WITH c, collect(DISTINCT d) AS ds
WHERE size(ds) > 0
WITH c, ds, c.seq AS base
SET c.seq = base + size(ds)
WITH base, ds
UNWIND range(0, size(ds) - 1) AS i
WITH base + i + 1 AS seq, ds[i] AS d
SET d.status = 'queued', d.qk = d.capability + '|' + toString(d.priority), d.updatedAt = $now
CREATE (e:Event {seq: seq, type: 'task.released', at: $now, actor: 'scheduler',
                 subject: d.id, payload: '{}'})
CREATE (e)-[:ON]->(d)
WITH d
MATCH (d)-[b:DEFERRED_BEHIND]->(:Task)
SET b.releasedAt = $now
RETURN count(DISTINCT d) AS released
