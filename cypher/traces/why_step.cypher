// whyDid, one step of the walk upstream: from the nodes in $keys (ids, or 'event:<seq>' for
// events) along what they were derived from, their parent task, their step and the steps
// before it, the proposals and merges those steps waited on, the facts they chose, the run
// and the event that triggered it. The app walks level by level with a node budget: a
// path-by-path match (*0..10) explodes on a dense DERIVED_FROM graph. At most $limit edges.
UNWIND $keys AS k
OPTIONAL MATCH (t:Task {id: k})
OPTIONAL MATCH (f:Fact {id: k})
OPTIONAL MATCH (p:Proposal {id: k})
OPTIONAL MATCH (r:Run {id: k})
OPTIONAL MATCH (s:Step {id: k})
OPTIONAL MATCH (m:Merge {id: k})
OPTIONAL MATCH (e:Event)
  WHERE k STARTS WITH 'event:' AND e.seq = toInteger(substring(k, 6))
WITH k, coalesce(t, f, p, r, s, m, e) AS x
WHERE x IS NOT NULL
MATCH (x)-[rel:DERIVED_FROM|CHILD_OF|PART_OF|TRIGGERED_BY|FOR|BASED_ON|FOR_STEP|AFTER|ASKED|MERGED|CHOSE|CONSIDERED|RAN]->(n)
RETURN k AS near, type(rel) AS type, coalesce(n.id, 'event:' + toString(n.seq)) AS far
LIMIT $limit
