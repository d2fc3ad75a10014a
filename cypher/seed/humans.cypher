// Seed human principals (no token until an admin rotates one) and their team memberships,
// with their readable domains and cleared labels (readDomains / readLabels) recomputed.
UNWIND $rows AS r
MERGE (p:Principal {id: r.id})
ON CREATE SET p._new = true, p.createdAt = $now, p.kind = 'human', p.revoked = false,
              p.tokenHash = null, p.agentId = null
SET p.name = r.name, p.roles = r.roles
WITH p, r
OPTIONAL MATCH (t:Team) WHERE t.id IN r.teams
FOREACH (_ IN CASE WHEN t IS NULL THEN [] ELSE [1] END | MERGE (p)-[:MEMBER_OF]->(t))
WITH DISTINCT p AS reader
WITH reader, [(reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(gd:Domain) | gd.id] AS gds,
     [(reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(gl:Label) | gl.name] AS gls
FOREACH (_ IN CASE WHEN reader IS NULL THEN [] ELSE [1] END |
  SET reader.readDomains = reduce(s = [], g IN gds | CASE WHEN g IN s THEN s ELSE s + g END),
      reader.readLabels = reduce(s = [], g IN gls | CASE WHEN g IN s THEN s ELSE s + g END))
WITH collect(DISTINCT reader) AS touched
WITH touched, [p IN touched WHERE p._new = true] AS created
FOREACH (p IN created | REMOVE p._new)
WITH size(created) AS n WHERE n > 0
MATCH (c:Counter {name: 'event'})
SET c.seq = c.seq + 1
CREATE (:Event {seq: c.seq, type: 'seed.applied', at: $now, actor: 'system', subject: 'Principal',
                payload: '{"label":"Principal","created":' + toString(n) + '}'})
RETURN n AS created
