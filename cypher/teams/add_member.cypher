// An admin makes a principal a member of a team (MEMBER_OF: it then reads with the team's
// grants), audited as team.member_added with the principal's teams before and after
// ($payload, built by the app from $before, the teams it read). Under the event-counter lock
// the principal must still be in exactly $before and not yet in the team.
// The reader's readable domains and cleared labels (readDomains / readLabels, what every read
// filters by) are recomputed from its edges in this same statement.
// No row back: an unknown principal or team, or its teams changed meanwhile.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (p:Principal {id: coalesce($principalId, '')})
MATCH (t:Team {id: coalesce($teamId, '')})
OPTIONAL MATCH (p)-[:MEMBER_OF]->(cur:Team)
WITH c, p, t, collect(cur.id) AS teams
WHERE size(teams) = size($before) AND all(x IN teams WHERE x IN $before)
  AND NOT t.id IN teams
CREATE (p)-[:MEMBER_OF]->(t)
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'team.member_added', at: $now, actor: $actor,
                 subject: t.id, payload: $payload})
CREATE (e)-[:ON]->(t)
WITH p AS reader
WITH reader, [(reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(gd:Domain) | gd.id] AS gds,
     [(reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(gl:Label) | gl.name] AS gls
FOREACH (_ IN CASE WHEN reader IS NULL THEN [] ELSE [1] END |
  SET reader.readDomains = reduce(s = [], g IN gds | CASE WHEN g IN s THEN s ELSE s + g END),
      reader.readLabels = reduce(s = [], g IN gls | CASE WHEN g IN s THEN s ELSE s + g END))
RETURN reader.id AS id
