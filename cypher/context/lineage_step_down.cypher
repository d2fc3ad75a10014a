// One step of a lineage walk downstream: the edges into the nodes in $ids (facts, tasks,
// proposals, agents) from what was derived from them, superseded them, or was asserted or
// decided by them.
// The app walks level by level with a node/edge budget (a path-by-path match explodes on
// a dense DERIVED_FROM graph), so each step is one bounded expansion. Facts the reader may
// not read are neither expanded nor reached (same grants as context/for_entity; $all for
// auditors). At most $limit edges, each with a summary of its far end.
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
MATCH (x)<-[r:DERIVED_FROM|SUPERSEDES|ASSERTED_BY|CHILD_OF|ASSIGNED_TO|FOR|PROPOSED_BY|BASED_ON]-(y)
WHERE $all OR NOT 'Fact' IN labels(y)
   OR (y.domain IN domains AND (y.sensitivity IS NULL OR y.sensitivity IN cleared))
// The near end's summary only on the first step (later, it was a far end already).
RETURN x.id AS nearId, type(r) AS type, y.id AS farId, labels(y)[0] AS farLabel,
       {id: y.id, key: y.key, value: y.value, confidence: y.confidence,
        status: y.status, kind: y.kind, capability: y.capability, name: y.name,
        summary: y.summary, agentId: y.agentId, entityId: y.entityId} AS far,
       CASE WHEN $first THEN labels(x)[0] END AS nearLabel,
       CASE WHEN $first THEN {id: x.id, key: x.key, value: x.value, confidence: x.confidence,
        status: x.status, kind: x.kind, capability: x.capability, name: x.name,
        summary: x.summary, agentId: x.agentId, entityId: x.entityId} END AS near
LIMIT $limit
