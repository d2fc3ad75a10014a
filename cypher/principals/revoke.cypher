// Revoke a principal's token: authentication stops matching it at once, and the event ends
// its open sessions (WebSockets) on every replica (the event hubs act on it).
MATCH (p:Principal {id: coalesce($id, '')})
SET p._lk = coalesce(p._lk, 0) + 1
WITH p WHERE p.revoked = false
MATCH (c:Counter {name: 'event'})
SET p.revoked = true, p.revokedAt = $now, c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'principal.revoked', at: $now, actor: $actor,
                 subject: $id, payload: '{}'})
CREATE (e)-[:ON]->(p)
RETURN p.id AS id
