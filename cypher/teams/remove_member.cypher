// An admin takes a principal out of a team, audited as team.member_removed with its teams
// before and after ($payload from $before, the teams the app read). Under the event-counter
// lock the principal must still be in exactly $before, the team among them.
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
  AND t.id IN teams
MATCH (p)-[m:MEMBER_OF]->(t)
DELETE m
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'team.member_removed', at: $now, actor: $actor,
                 subject: t.id, payload: $payload})
CREATE (e)-[:ON]->(t)
WITH p AS reader
WITH reader, [(reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(gd:Domain) | gd.id] AS gds,
     [(reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(gl:Label) | gl.name] AS gls
FOREACH (_ IN CASE WHEN reader IS NULL THEN [] ELSE [1] END |
  SET reader.readDomains = reduce(s = [], g IN gds | CASE WHEN g IN s THEN s ELSE s + g END),
      reader.readLabels = reduce(s = [], g IN gls | CASE WHEN g IN s THEN s ELSE s + g END))
RETURN reader.id AS id
