// A new principal (human, agent or service) with the hash of its API token and an optional
// expiry ($expiresAt, epoch ms; null = no expiry).
// Fails on the id uniqueness constraint if the id exists (the caller maps it to CONFLICT).
MATCH (c:Counter {name: 'event'})
CREATE (p:Principal {id: $id, kind: $kind, name: $name, roles: $roles, agentId: $agentId,
                     tokenHash: $tokenHash, revoked: false, createdAt: $now,
                     expiresAt: $expiresAt})
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'principal.created', at: $now, actor: $actor,
                 subject: $id, payload: $payload})
CREATE (e)-[:ON]->(p)
WITH p
OPTIONAL MATCH (a:Agent {id: $agentId})
FOREACH (_ IN CASE WHEN a IS NULL THEN [] ELSE [1] END | MERGE (p)-[:ACTS_AS]->(a))
RETURN p.id AS id, p.kind AS kind, p.name AS name, p.roles AS roles, p.agentId AS agentId,
       p.expiresAt AS expiresAt
