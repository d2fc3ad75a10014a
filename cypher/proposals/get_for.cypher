// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block reads the caller's readable domains
// and cleared labels off its own node (readDomains / readLabels, kept by the statements that
// change memberships and grants); then each row is filtered by its label's readable clause
// (fact, entity, task, proposal; the generic one where labels mix), each the same text in
// every statement (tests/security/test_grant_clause.py checks it).
// One proposal as the caller may see it: payload, modified payload and rationale are null
// unless it is readable (its own, the caller is a named approver, or every entity its task
// touches is in a readable domain).
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
MATCH (n:Proposal {id: coalesce($id, '')})
WITH n, $all OR (n.agentId = $agentId
      OR size([(n)-[:ROUTED_TO|ESCALATED_TO]->(h:Principal {id: $callerId}) | h.id]) > 0
      OR all(y IN [(n)-[:FOR]->(:Task)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(pd:Domain) | pd.id]
             WHERE y IN domains)) AS ok
OPTIONAL MATCH (n)-[:ROUTED_TO|ESCALATED_TO]->(h:Principal)
RETURN CASE WHEN ok THEN properties(n)
            ELSE n {.*, payload: null, modifiedPayload: null, rationale: null, _hidden: true}
       END AS proposal, collect(DISTINCT h.id) AS routedTo
