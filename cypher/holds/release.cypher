// End a legal hold now (it stays, as a record, with releasedAt; retention may then remove
// what it kept). No row back: unknown hold, or released already.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (h:LegalHold {id: coalesce($id, '')})
WHERE h.releasedAt IS NULL
SET h.releasedAt = $now, h.releasedBy = $actor, h.releaseReason = $reason,
    h.until = CASE WHEN h.until IS NULL OR h.until > $now THEN $now ELSE h.until END,
    c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'legal_hold.released', at: $now, actor: $actor,
                 subject: h.id, payload: $payload})
CREATE (e)-[:ON]->(h)
RETURN properties(h) AS hold
