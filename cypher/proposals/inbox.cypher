// A human's inbox: proposals routed or escalated to them, most urgent first (task priority,
// then deadline, then how long it has waited), with the facts the agent relied on.
// From the principal (an index lookup) along its edges, not from every Proposal.
MATCH (h:Principal {id: coalesce($principalId, '')})
WITH h
MATCH (h)<-[:ROUTED_TO|ESCALATED_TO]-(p:Proposal)
WHERE $status IS NULL OR p.status = $status
WITH DISTINCT p
RETURN properties(p) AS proposal,
       [(p)-[:ROUTED_TO|ESCALATED_TO]->(r:Principal) | r.id] AS routedTo
ORDER BY p.priority DESC, coalesce(p.deadline, 9007199254740991) ASC, p.createdAt ASC
SKIP $offset
LIMIT $limit
