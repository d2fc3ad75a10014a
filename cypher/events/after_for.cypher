// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block reads the caller's readable domains
// and cleared labels off its own node (readDomains / readLabels, kept by the statements that
// change memberships and grants); then each row is filtered by its label's readable clause
// (fact, entity, task, proposal; the generic one where labels mix), each the same text in
// every statement (tests/security/test_grant_clause.py checks it).
// Events after a cursor, oldest first, as the caller may see them: an event's payload is null
// unless every node it is ON is readable (facts by domain and clearance, tasks, proposals and
// entities by the domains they touch, or the caller's own); the row itself stays visible.
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
MATCH (e:Event)
WHERE e.seq > $after AND ($types IS NULL OR e.type IN $types)
WITH domains, cleared, e
ORDER BY e.seq
LIMIT $limit
OPTIONAL MATCH (e)-[:ON]->(n)
WITH e, coalesce(n IS NULL OR ($all OR NOT any(lb IN labels(n) WHERE lb IN ['Fact', 'Task', 'Proposal', 'Entity'])
  OR ('Fact' IN labels(n) AND (n.domain IN domains AND (n.sensitivity IS NULL OR n.sensitivity IN cleared)))
  OR ('Task' IN labels(n) AND (n.agentId = $agentId OR n.submittedBy = $callerId
      OR all(y IN [(n)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id] WHERE y IN domains)))
  OR ('Proposal' IN labels(n) AND (n.agentId = $agentId
      OR size([(n)-[:ROUTED_TO|ESCALATED_TO]->(h:Principal {id: $callerId}) | h.id]) > 0
      OR all(y IN [(n)-[:FOR]->(:Task)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(pd:Domain) | pd.id]
             WHERE y IN domains)))
  OR ('Entity' IN labels(n) AND (all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains)))), false) AS ok
WITH e, collect(ok) AS oks
RETURN e.seq AS seq, e.type AS type, e.at AS at, e.actor AS actor, e.subject AS subject,
       CASE WHEN all(x IN oks WHERE x) THEN e.payload END AS payload,
       NOT all(x IN oks WHERE x) AS hidden, e.key AS key
ORDER BY seq
