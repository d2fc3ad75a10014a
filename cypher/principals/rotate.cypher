// Give a principal a new token (the old one stops working); also un-revokes it.
MATCH (p:Principal {id: $id})
MATCH (c:Counter {name: 'event'})
SET p.tokenHash = $tokenHash, p.revoked = false, c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'principal.token_rotated', at: $now, actor: $actor,
                 subject: $id, payload: '{}'})
CREATE (e)-[:ON]->(p)
RETURN p.id AS id
