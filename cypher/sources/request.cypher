// Ask for a sync of an active source now: the scheduler's `sources` job runs it within its
// next tick (a sync of a big catalog outlasts any request). Audited as source.sync_requested.
// No row: unknown or removed.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (s:Source {id: coalesce($id, '')})
WHERE s.status = 'active'
SET s.dueAt = $now
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'source.sync_requested', at: $now, actor: $actor,
                 subject: s.id, payload: $payload})
CREATE (e)-[:ON]->(s)
RETURN s.id AS id
