// First start: create the admin principal once. Returns created=true only that time, so the
// app prints the minted token exactly once.
MATCH (c:Counter {name: 'event'})
MERGE (p:Principal {id: 'admin'})
ON CREATE SET p.kind = 'human', p.name = 'Administrator', p.roles = ['admin'],
              p.agentId = null, p.tokenHash = $tokenHash, p.revoked = false,
              p.createdAt = $now, p._new = true
WITH c, p, coalesce(p._new, false) AS created
REMOVE p._new
FOREACH (_ IN CASE WHEN created THEN [1] ELSE [] END |
  SET c.seq = c.seq + 1
  CREATE (:Event {seq: c.seq, type: 'principal.created', at: $now, actor: 'system',
                  subject: 'admin', payload: '{"roles":["admin"]}'}))
RETURN created
