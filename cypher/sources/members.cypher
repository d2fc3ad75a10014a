// Sync, step 2 of 3: the team memberships of a batch of a source's users ($rows: {id, teams}).
// A user is MEMBER_OF exactly the teams (Groups) its source lists now: memberships this source
// made and no longer lists go (they grant reads, so they are removed, not retired); an
// admin's own memberships (no `source`) are never touched, nor principals of another origin.
// Each user's readable domains and cleared labels (readDomains / readLabels) are recomputed
// here; the event-counter lock first orders this with teams/set (Neo4j), so a grant changed
// meanwhile is never missed.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
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
WITH DISTINCT p AS reader
WITH reader, [(reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(gd:Domain) | gd.id] AS gds,
     [(reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(gl:Label) | gl.name] AS gls
FOREACH (_ IN CASE WHEN reader IS NULL THEN [] ELSE [1] END |
  SET reader.readDomains = reduce(s = [], g IN gds | CASE WHEN g IN s THEN s ELSE s + g END),
      reader.readLabels = reduce(s = [], g IN gls | CASE WHEN g IN s THEN s ELSE s + g END))
RETURN count(DISTINCT reader) AS written
