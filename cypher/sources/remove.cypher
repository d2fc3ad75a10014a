// Stop syncing a source (status 'removed', kept with its provenance); its entities are
// retired by a sync with nothing in it, which the caller runs first. No row: unknown or
// already removed.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (s:Source {id: coalesce($id, '')})
WHERE s.status = 'active'
SET s.status = 'removed', s.dueAt = null
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'source.removed', at: $now, actor: $actor, subject: s.id,
                 payload: $payload})
CREATE (e)-[:ON]->(s)
RETURN s.id AS id
