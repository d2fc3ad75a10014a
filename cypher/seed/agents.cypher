// Seed agents (offline until they heartbeat), MEMBER_OF their team, with their readable
// domains and cleared labels (readDomains / readLabels) recomputed.
UNWIND $rows AS r
MATCH (t:Team {id: r.team})
MERGE (a:Agent {id: r.id})
ON CREATE SET a._new = true, a.createdAt = $now, a.status = 'offline', a.active = 0,
              a.lastHeartbeat = 0
SET a.name = r.name, a.kind = r.kind, a.capabilities = r.capabilities,
    a.maxConcurrency = r.maxConcurrency, a.costPerCall = r.costPerCall, a.team = r.team
MERGE (a)-[:MEMBER_OF]->(t)
WITH a AS reader
WITH reader, [(reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(gd:Domain) | gd.id] AS gds,
     [(reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(gl:Label) | gl.name] AS gls
FOREACH (_ IN CASE WHEN reader IS NULL THEN [] ELSE [1] END |
  SET reader.readDomains = reduce(s = [], g IN gds | CASE WHEN g IN s THEN s ELSE s + g END),
      reader.readLabels = reduce(s = [], g IN gls | CASE WHEN g IN s THEN s ELSE s + g END))
WITH collect(reader) AS touched
WITH touched, [a IN touched WHERE a._new = true] AS created
FOREACH (a IN created | REMOVE a._new)
WITH size(created) AS n WHERE n > 0
MATCH (c:Counter {name: 'event'})
SET c.seq = c.seq + 1
CREATE (:Event {seq: c.seq, type: 'seed.applied', at: $now, actor: 'system', subject: 'Agent',
                payload: '{"label":"Agent","created":' + toString(n) + '}'})
RETURN n AS created
