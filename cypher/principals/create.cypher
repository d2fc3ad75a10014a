// A new principal (human, agent or service) with the hash of its API token and an optional
// expiry ($expiresAt, epoch ms; null = no expiry). $team (admins only call this) is the team
// an agent principal's agent may join (registerAgent).
// Fails on the id uniqueness constraint if the id exists (the caller maps it to CONFLICT).
// No row back: the team does not exist.
MATCH (c:Counter {name: 'event'})
OPTIONAL MATCH (tm:Team {id: coalesce($team, '')})
WITH c, tm
WHERE $team IS NULL OR tm IS NOT NULL
CREATE (p:Principal {id: $id, kind: $kind, name: $name, roles: $roles, agentId: $agentId,
                     team: $team, tokenHash: $tokenHash, revoked: false, createdAt: $now,
                     expiresAt: $expiresAt})
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'principal.created', at: $now, actor: $actor,
                 subject: $id, payload: $payload})
CREATE (e)-[:ON]->(p)
WITH p
OPTIONAL MATCH (a:Agent {id: coalesce($agentId, '')})
FOREACH (_ IN CASE WHEN a IS NULL THEN [] ELSE [1] END | MERGE (p)-[:ACTS_AS]->(a))
RETURN p.id AS id, p.kind AS kind, p.name AS name, p.roles AS roles, p.agentId AS agentId,
       p.team AS team, p.expiresAt AS expiresAt
