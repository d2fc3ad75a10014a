// Recompute the readable domains and cleared labels (readDomains / readLabels) of the readers
// $ids (agents and principals; null: every one) from their teams' CAN_READ and CLEARED_FOR
// edges, as migrations/0003 does. The statements that change memberships and grants do this
// themselves; this one repairs a graph written around them (a restore, an analyst's edit).
// The event counter, if there is one yet, is locked first (Neo4j: ordered with teams/set).
OPTIONAL MATCH (lk:Counter {name: 'event'})
FOREACH (_ IN CASE WHEN lk IS NULL THEN [] ELSE [1] END | SET lk._lk = timestamp())
WITH count(*) AS locked
OPTIONAL MATCH (ra:Agent)
WHERE $ids IS NULL OR ra.id IN $ids
WITH collect(ra) AS agents
OPTIONAL MATCH (rp:Principal)
WHERE $ids IS NULL OR rp.id IN $ids
WITH agents, collect(rp) AS principals
UNWIND agents + principals AS reader
WITH reader, [(reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(gd:Domain) | gd.id] AS gds,
     [(reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(gl:Label) | gl.name] AS gls
FOREACH (_ IN CASE WHEN reader IS NULL THEN [] ELSE [1] END |
  SET reader.readDomains = reduce(s = [], g IN gds | CASE WHEN g IN s THEN s ELSE s + g END),
      reader.readLabels = reduce(s = [], g IN gls | CASE WHEN g IN s THEN s ELSE s + g END))
RETURN count(reader) AS refreshed
