// An admin creates a team or replaces its name and grants (canRead / canAct domains,
// cleared labels), audited as team.set with before and after ($payload, built by the app
// from the state it read at revision $rev). Under the event-counter lock the team must still
// be at $rev (0: absent) and every domain named must exist; the grants are then replaced
// and the revision bumped, and every member's (agents' and principals') readable domains and
// cleared labels (readDomains / readLabels) recomputed from the edges. No row back: the team changed meanwhile or a domain is unknown
// (the caller tells which).
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
OPTIONAL MATCH (old:Team {id: coalesce($id, '')})
WITH c, old
WHERE coalesce(old.rev, 0) = $rev
  AND (old IS NULL) = $absent
OPTIONAL MATCH (d:Domain)
WHERE d.id IN $canRead OR d.id IN $canAct
WITH c, collect(DISTINCT d.id) AS known
WHERE all(x IN $canRead WHERE x IN known) AND all(x IN $canAct WHERE x IN known)
MERGE (t:Team {id: $id})
ON CREATE SET t.createdAt = $now
SET t.name = $name, t.rev = coalesce(t.rev, 0) + 1, t.updatedAt = $now
WITH c, t
OPTIONAL MATCH (t)-[g:CAN_READ|CAN_ACT|CLEARED_FOR]->()
DELETE g
WITH DISTINCT c, t
OPTIONAL MATCH (rd:Domain)
WHERE rd.id IN $canRead
FOREACH (_ IN CASE WHEN rd IS NULL THEN [] ELSE [1] END | MERGE (t)-[:CAN_READ]->(rd))
WITH DISTINCT c, t
OPTIONAL MATCH (ad:Domain)
WHERE ad.id IN $canAct
FOREACH (_ IN CASE WHEN ad IS NULL THEN [] ELSE [1] END | MERGE (t)-[:CAN_ACT]->(ad))
WITH DISTINCT c, t
FOREACH (name IN $cleared |
  MERGE (l:Label {name: name})
  MERGE (t)-[:CLEARED_FOR]->(l))
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'team.set', at: $now, actor: $actor, subject: t.id,
                 payload: $payload})
CREATE (e)-[:ON]->(t)
WITH t
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(t)
WITH t, reader, [(reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(gd:Domain) | gd.id] AS gds,
     [(reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(gl:Label) | gl.name] AS gls
FOREACH (_ IN CASE WHEN reader IS NULL THEN [] ELSE [1] END |
  SET reader.readDomains = reduce(s = [], g IN gds | CASE WHEN g IN s THEN s ELSE s + g END),
      reader.readLabels = reduce(s = [], g IN gls | CASE WHEN g IN s THEN s ELSE s + g END))
RETURN DISTINCT t.id AS id
