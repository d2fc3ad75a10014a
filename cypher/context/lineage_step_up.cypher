// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block reads the caller's readable domains
// and cleared labels off its own node (readDomains / readLabels, kept by the statements that
// change memberships and grants); then each row is filtered by its label's readable clause
// (fact, entity, task, proposal; the generic one where labels mix), each the same text in
// every statement (tests/security/test_grant_clause.py checks it).
// One step of a lineage walk upstream: the edges from the nodes in $ids (facts, tasks,
// proposals, agents) to what they were derived from, superseded, asserted or decided by.
// The app walks level by level with a node/edge budget (a path-by-path match explodes on
// a dense DERIVED_FROM graph), so each step is one bounded expansion. A node the reader may
// not read (a fact, task, proposal or entity: see the header) is neither expanded nor
// reached, so the walk never passes through it (as a path through it is left out entirely).
// At most $limit edges, each with a summary of its far end.
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
UNWIND $ids AS xid
OPTIONAL MATCH (xf:Fact {id: xid})
OPTIONAL MATCH (xt:Task {id: xid})
OPTIONAL MATCH (xp:Proposal {id: xid})
OPTIONAL MATCH (xa:Agent {id: xid})
WITH domains, cleared, coalesce(xf, xt, xp, xa) AS n
WHERE n IS NOT NULL
WITH domains, cleared, n, coalesce($all OR NOT any(lb IN labels(n) WHERE lb IN ['Fact', 'Task', 'Proposal', 'Entity'])
  OR ('Fact' IN labels(n) AND (n.domain IN domains AND (n.sensitivity IS NULL OR n.sensitivity IN cleared)))
  OR ('Task' IN labels(n) AND (n.agentId = $agentId OR n.submittedBy = $callerId
      OR all(y IN [(n)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id] WHERE y IN domains)))
  OR ('Proposal' IN labels(n) AND (n.agentId = $agentId
      OR size([(n)-[:ROUTED_TO|ESCALATED_TO]->(h:Principal {id: $callerId}) | h.id]) > 0
      OR all(y IN [(n)-[:FOR]->(:Task)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(pd:Domain) | pd.id]
             WHERE y IN domains)))
  OR ('Entity' IN labels(n) AND (all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains))), false) AS ok
WHERE ok
WITH domains, cleared, n AS x
MATCH (x)-[r:DERIVED_FROM|SUPERSEDES|ASSERTED_BY|CHILD_OF|ASSIGNED_TO|FOR|PROPOSED_BY|BASED_ON]->(n)
WITH x, r, n, coalesce($all OR NOT any(lb IN labels(n) WHERE lb IN ['Fact', 'Task', 'Proposal', 'Entity'])
  OR ('Fact' IN labels(n) AND (n.domain IN domains AND (n.sensitivity IS NULL OR n.sensitivity IN cleared)))
  OR ('Task' IN labels(n) AND (n.agentId = $agentId OR n.submittedBy = $callerId
      OR all(y IN [(n)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id] WHERE y IN domains)))
  OR ('Proposal' IN labels(n) AND (n.agentId = $agentId
      OR size([(n)-[:ROUTED_TO|ESCALATED_TO]->(h:Principal {id: $callerId}) | h.id]) > 0
      OR all(y IN [(n)-[:FOR]->(:Task)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(pd:Domain) | pd.id]
             WHERE y IN domains)))
  OR ('Entity' IN labels(n) AND (all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains))), false) AS ok
WHERE ok
// The near end's summary only on the first step (later, it was a far end already).
RETURN x.id AS nearId, type(r) AS type, n.id AS farId, labels(n)[0] AS farLabel,
       {id: n.id, key: n.key, value: n.value, confidence: n.confidence,
        status: n.status, kind: n.kind, capability: n.capability, name: n.name,
        summary: n.summary, agentId: n.agentId, entityId: n.entityId} AS far,
       CASE WHEN $first THEN labels(x)[0] END AS nearLabel,
       CASE WHEN $first THEN {id: x.id, key: x.key, value: x.value, confidence: x.confidence,
        status: x.status, kind: x.kind, capability: x.capability, name: x.name,
        summary: x.summary, agentId: x.agentId, entityId: x.entityId} END AS near
LIMIT $limit
