// An admin deletes a team: its grants (CAN_READ, CAN_ACT, CLEARED_FOR), memberships and the
// policies' APPLIES_TO edges to it go with it, and every former member's readable domains and
// cleared labels (readDomains / readLabels) are recomputed in this same statement, so its
// next read no longer sees what the team granted. An agent whose own team it was has none
// any more. Audited as team.deleted with the grants before ($payload, built by the app from
// the state it read at revision $rev). Under the event-counter lock the team must still be at
// $rev. No row back: the team does not exist or changed meanwhile.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (t:Team {id: coalesce($id, '')})
WHERE coalesce(t.rev, 0) = $rev
OPTIONAL MATCH (m)-[:MEMBER_OF]->(t)
WITH c, t, collect(m) AS members
DETACH DELETE t
FOREACH (x IN [y IN members WHERE y:Agent AND y.team = $id] | SET x.team = null)
SET c.seq = c.seq + 1
CREATE (:Event {seq: c.seq, type: 'team.deleted', at: $now, actor: $actor, subject: $id,
                payload: $payload})
WITH members
UNWIND CASE WHEN size(members) = 0 THEN [null] ELSE members END AS reader
WITH members, reader, [(reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(gd:Domain) | gd.id] AS gds,
     [(reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(gl:Label) | gl.name] AS gls
FOREACH (_ IN CASE WHEN reader IS NULL THEN [] ELSE [1] END |
  SET reader.readDomains = reduce(s = [], g IN gds | CASE WHEN g IN s THEN s ELSE s + g END),
      reader.readLabels = reduce(s = [], g IN gls | CASE WHEN g IN s THEN s ELSE s + g END))
RETURN DISTINCT $id AS id, [x IN members | x.id] AS members
