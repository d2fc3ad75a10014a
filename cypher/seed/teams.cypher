// Seed teams with their read/act grants on domains and the sensitivity labels they are
// CLEARED_FOR (a fact with a label needs that clearance on top of the domain grant).
// Their members' readable domains and cleared labels (readDomains / readLabels) are recomputed.
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
WITH DISTINCT t
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(t)
WITH t, reader, [(reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(gd:Domain) | gd.id] AS gds,
     [(reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(gl:Label) | gl.name] AS gls
FOREACH (_ IN CASE WHEN reader IS NULL THEN [] ELSE [1] END |
  SET reader.readDomains = reduce(s = [], g IN gds | CASE WHEN g IN s THEN s ELSE s + g END),
      reader.readLabels = reduce(s = [], g IN gls | CASE WHEN g IN s THEN s ELSE s + g END))
WITH collect(DISTINCT t) AS touched
WITH touched, [t IN touched WHERE t._new = true] AS created
FOREACH (t IN created | REMOVE t._new)
WITH size(created) AS n WHERE n > 0
MATCH (c:Counter {name: 'event'})
SET c.seq = c.seq + 1
CREATE (:Event {seq: c.seq, type: 'seed.applied', at: $now, actor: 'system', subject: 'Team',
                payload: '{"label":"Team","created":' + toString(n) + '}'})
RETURN n AS created
