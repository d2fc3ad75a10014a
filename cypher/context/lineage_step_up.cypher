// One step of a lineage walk upstream: the edges from the nodes in $ids (facts, tasks,
// proposals, agents) to what they were derived from, superseded, asserted or decided by.
// The app walks level by level with a node/edge budget (a path-by-path match explodes on
// a dense DERIVED_FROM graph), so each step is one bounded expansion. Facts the reader may
// not read are neither expanded nor reached (same grants as context/for_entity; $all for
// auditors). At most $limit edges.
OPTIONAL MATCH (ra:Agent {id: $agentId})
OPTIONAL MATCH (rp:Principal {id: $principalId})
WITH coalesce(ra, rp) AS reader
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(d:Domain)
WITH reader, collect(DISTINCT d.id) AS domains
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(l:Label)
WITH domains, collect(DISTINCT l.name) AS cleared
UNWIND $ids AS xid
OPTIONAL MATCH (xf:Fact {id: xid})
OPTIONAL MATCH (xt:Task {id: xid})
OPTIONAL MATCH (xp:Proposal {id: xid})
OPTIONAL MATCH (xa:Agent {id: xid})
WITH domains, cleared, coalesce(xf, xt, xp, xa) AS x
WHERE x IS NOT NULL
  AND ($all OR NOT 'Fact' IN labels(x)
       OR (x.domain IN domains AND (x.sensitivity IS NULL OR x.sensitivity IN cleared)))
MATCH (x)-[r:DERIVED_FROM|SUPERSEDES|ASSERTED_BY|CHILD_OF|ASSIGNED_TO|FOR|PROPOSED_BY|BASED_ON]->(y)
WHERE $all OR NOT 'Fact' IN labels(y)
   OR (y.domain IN domains AND (y.sensitivity IS NULL OR y.sensitivity IN cleared))
RETURN x.id AS fromId, labels(x)[0] AS fromLabel, properties(x) AS fromProps, type(r) AS type,
       y.id AS toId, labels(y)[0] AS toLabel, properties(y) AS toProps
LIMIT $limit
