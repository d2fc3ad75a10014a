// Sync, step 2 of 3: the team memberships of a batch of a source's users ($rows: {id, teams}).
// A user is MEMBER_OF exactly the teams (Groups) its source lists now: memberships this source
// made and no longer lists go (they grant reads, so they are removed, not retired); an
// admin's own memberships (no `source`) are never touched, nor principals of another origin.
MATCH (s:Source {id: coalesce($source, '')})
UNWIND $rows AS r
MATCH (p:Principal {id: r.id})
WHERE p.source = s.id
OPTIONAL MATCH (p)-[m:MEMBER_OF]->(t:Team)
WHERE m.source = s.id AND NOT t.id IN r.teams
DELETE m
WITH DISTINCT s, p, r
UNWIND CASE WHEN size(r.teams) = 0 THEN [null] ELSE r.teams END AS tid
OPTIONAL MATCH (t2:Team {id: coalesce(tid, '')})
FOREACH (_ IN CASE WHEN t2 IS NULL THEN [] ELSE [1] END |
  MERGE (p)-[:MEMBER_OF {source: s.id}]->(t2))
RETURN count(DISTINCT p) AS written
