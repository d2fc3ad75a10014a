// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block reads the caller's readable domains
// and cleared labels off its own node (readDomains / readLabels, kept by the statements that
// change memberships and grants); then each row is filtered by its label's readable clause
// (fact, entity, task, proposal; the generic one where labels mix), each the same text in
// every statement (tests/security/test_grant_clause.py checks it).
// whyDid, one step of the walk upstream: from the nodes in $keys (ids, or 'event:<seq>' for
// events) along what they were derived from, their parent task, their step and the steps
// before it, the proposals and merges those steps waited on, the facts they chose, the run
// and the event that triggered it. The app walks level by level with a node budget: a
// path-by-path match (*0..10) explodes on a dense DERIVED_FROM graph. As the caller may see
// it: a node it may not read is neither expanded nor reached, so no walk passes through it.
// At most $limit edges.
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
UNWIND $keys AS k
OPTIONAL MATCH (t:Task {id: k})
OPTIONAL MATCH (f:Fact {id: k})
OPTIONAL MATCH (p:Proposal {id: k})
OPTIONAL MATCH (r:Run {id: k})
OPTIONAL MATCH (s:Step {id: k})
OPTIONAL MATCH (m:Merge {id: k})
OPTIONAL MATCH (e:Event)
  WHERE k STARTS WITH 'event:' AND e.seq = toInteger(substring(k, 6))
WITH domains, cleared, k, coalesce(t, f, p, r, s, m, e) AS n
WHERE n IS NOT NULL
WITH domains, cleared, k, n, coalesce($all OR NOT any(lb IN labels(n) WHERE lb IN ['Fact', 'Task', 'Proposal', 'Entity'])
  OR ('Fact' IN labels(n) AND (n.domain IN domains AND (n.sensitivity IS NULL OR n.sensitivity IN cleared)))
  OR ('Task' IN labels(n) AND (n.agentId = $agentId OR n.submittedBy = $callerId
      OR all(y IN [(n)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id] WHERE y IN domains)))
  OR ('Proposal' IN labels(n) AND (n.agentId = $agentId
      OR size([(n)-[:ROUTED_TO|ESCALATED_TO]->(h:Principal {id: $callerId}) | h.id]) > 0
      OR all(y IN [(n)-[:FOR]->(:Task)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(pd:Domain) | pd.id]
             WHERE y IN domains)))
  OR ('Entity' IN labels(n) AND (all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains))), false) AS ok
WHERE ok
WITH domains, cleared, k, n AS x
MATCH (x)-[rel:DERIVED_FROM|CHILD_OF|PART_OF|TRIGGERED_BY|FOR|BASED_ON|FOR_STEP|AFTER|ASKED|MERGED|CHOSE|CONSIDERED|RAN]->(n)
WITH k, rel, n, coalesce($all OR NOT any(lb IN labels(n) WHERE lb IN ['Fact', 'Task', 'Proposal', 'Entity'])
  OR ('Fact' IN labels(n) AND (n.domain IN domains AND (n.sensitivity IS NULL OR n.sensitivity IN cleared)))
  OR ('Task' IN labels(n) AND (n.agentId = $agentId OR n.submittedBy = $callerId
      OR all(y IN [(n)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id] WHERE y IN domains)))
  OR ('Proposal' IN labels(n) AND (n.agentId = $agentId
      OR size([(n)-[:ROUTED_TO|ESCALATED_TO]->(h:Principal {id: $callerId}) | h.id]) > 0
      OR all(y IN [(n)-[:FOR]->(:Task)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(pd:Domain) | pd.id]
             WHERE y IN domains)))
  OR ('Entity' IN labels(n) AND (all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains))), false) AS ok
WHERE ok
RETURN k AS near, type(rel) AS type, coalesce(n.id, 'event:' + toString(n.seq)) AS far
LIMIT $limit
