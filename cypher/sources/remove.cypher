// Stop syncing a source (status 'removed', kept with its provenance) and make it due: the
// scheduler's next tick syncs it with nothing in it, which retires its entities. No row:
// unknown or already removed.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (s:Source {id: coalesce($id, '')})
WHERE s.status = 'active'
SET s.status = 'removed', s.dueAt = $now
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'source.removed', at: $now, actor: $actor, subject: s.id,
                 payload: $payload})
CREATE (e)-[:ON]->(s)
RETURN s.id AS id
