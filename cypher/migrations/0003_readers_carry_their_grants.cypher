// v3: every reader (Agent, Principal) carries its readable domains and cleared labels
// (readDomains / readLabels: the CAN_READ domains and CLEARED_FOR labels of the teams it is
// MEMBER_OF), which every read statement filters by instead of walking the teams; the
// statements that change memberships and grants keep them. Recomputed from the edges:
// running it again changes nothing.
OPTIONAL MATCH (ra:Agent)
WITH collect(ra) AS agents
OPTIONAL MATCH (rp:Principal)
WITH agents, collect(rp) AS principals
UNWIND agents + principals AS reader
WITH reader, [(reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(gd:Domain) | gd.id] AS gds,
     [(reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(gl:Label) | gl.name] AS gls
FOREACH (_ IN CASE WHEN reader IS NULL THEN [] ELSE [1] END |
  SET reader.readDomains = reduce(s = [], g IN gds | CASE WHEN g IN s THEN s ELSE s + g END),
      reader.readLabels = reduce(s = [], g IN gls | CASE WHEN g IN s THEN s ELSE s + g END))
RETURN count(reader) AS readers
