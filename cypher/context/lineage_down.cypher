// Lineage downstream of a fact, task, proposal or agent: what was derived from it, superseded it,
// or was asserted or decided by it, within $depth steps (1..5). Paths through a fact the reader may not
// read are left out entirely (same grants as context/for_entity; $all for auditors).
// One row per edge, with both ends.
OPTIONAL MATCH (ra:Agent {id: $agentId})
OPTIONAL MATCH (rp:Principal {id: $principalId})
WITH coalesce(ra, rp) AS reader
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(d:Domain)
WITH reader, collect(DISTINCT d.id) AS domains
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(l:Label)
WITH domains, collect(DISTINCT l.name) AS cleared
OPTIONAL MATCH (xf:Fact {id: $id})
OPTIONAL MATCH (xt:Task {id: $id})
OPTIONAL MATCH (xp:Proposal {id: $id})
OPTIONAL MATCH (xa:Agent {id: $id})
WITH domains, cleared, coalesce(xf, xt, xp, xa) AS x
MATCH path = (x)<-[:DERIVED_FROM|SUPERSEDES|ASSERTED_BY|CHILD_OF|ASSIGNED_TO|FOR|PROPOSED_BY|BASED_ON*1..5]-()
WHERE length(path) <= $depth
  AND all(n IN nodes(path) WHERE $all OR NOT 'Fact' IN labels(n)
          OR (n.domain IN domains AND (n.sensitivity IS NULL OR n.sensitivity IN cleared)))
UNWIND relationships(path) AS r
WITH DISTINCT r
RETURN startNode(r).id AS fromId, labels(startNode(r))[0] AS fromLabel,
       properties(startNode(r)) AS fromProps, type(r) AS type, endNode(r).id AS toId,
       labels(endNode(r))[0] AS toLabel, properties(endNode(r)) AS toProps
LIMIT $limit
