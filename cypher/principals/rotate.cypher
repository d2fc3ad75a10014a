// Give a principal a new token (the old one stops working); also un-revokes it and sets the
// new token's expiry ($expiresAt, null = none). The event ends every session (WebSocket)
// opened with the old token, on every replica (the event hubs act on it).
MATCH (p:Principal {id: coalesce($id, '')})
MATCH (c:Counter {name: 'event'})
SET p.tokenHash = $tokenHash, p.revoked = false, p.expiresAt = $expiresAt, c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'principal.token_rotated', at: $now, actor: $actor,
                 subject: $id, payload: '{}'})
CREATE (e)-[:ON]->(p)
RETURN p.id AS id
