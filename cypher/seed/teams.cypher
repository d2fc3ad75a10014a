// Seed teams with their read/act grants on domains and the sensitivity labels they are
// CLEARED_FOR (a fact with a label needs that clearance on top of the domain grant).
UNWIND $rows AS r
MERGE (t:Team {id: r.id})
ON CREATE SET t._new = true, t.createdAt = $now
SET t.name = r.name, t.rev = coalesce(t.rev, 0) + 1
WITH t, r
OPTIONAL MATCH (rd:Domain) WHERE rd.id IN r.canRead
FOREACH (_ IN CASE WHEN rd IS NULL THEN [] ELSE [1] END | MERGE (t)-[:CAN_READ]->(rd))
WITH DISTINCT t, r
OPTIONAL MATCH (ad:Domain) WHERE ad.id IN r.canAct
FOREACH (_ IN CASE WHEN ad IS NULL THEN [] ELSE [1] END | MERGE (t)-[:CAN_ACT]->(ad))
WITH DISTINCT t, r
FOREACH (name IN coalesce(r.cleared, []) |
  MERGE (l:Label {name: name})
  MERGE (t)-[:CLEARED_FOR]->(l))
WITH collect(DISTINCT t) AS touched
WITH touched, [t IN touched WHERE t._new = true] AS created
FOREACH (t IN created | REMOVE t._new)
WITH size(created) AS n WHERE n > 0
MATCH (c:Counter {name: 'event'})
SET c.seq = c.seq + 1
CREATE (:Event {seq: c.seq, type: 'seed.applied', at: $now, actor: 'system', subject: 'Team',
                payload: '{"label":"Team","created":' + toString(n) + '}'})
RETURN n AS created
