// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block reads the caller's readable domains
// and cleared labels off its own node (readDomains / readLabels, kept by the statements that
// change memberships and grants); then each row is filtered by its label's readable clause
// (fact, entity, task, proposal; the generic one where labels mix), each the same text in
// every statement (tests/security/test_grant_clause.py checks it).
// Tasks by id after a cursor, filtered, as the caller may see them (see tasks/get_for).
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
MATCH (n:Task)
WHERE n.id > $after AND ($status IS NULL OR n.status = $status)
  AND ($capability IS NULL OR n.capability = $capability)
  AND ($agentFilter IS NULL OR n.agentId = $agentFilter)
WITH domains, cleared, n
ORDER BY n.id
LIMIT $limit
WITH n, $all OR (n.agentId = $agentId OR n.submittedBy = $callerId
      OR all(y IN [(n)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id] WHERE y IN domains)) AS ok
RETURN CASE WHEN ok THEN properties(n)
            ELSE n {.*, payload: null, result: null, errors: [], feedback: null, _hidden: true}
       END AS task, [(n)-[:MERGED_INTO]->(m:Task) | m.id][0] AS mergedInto,
       [(n)-[:DEFERRED_BEHIND]->(dt:Task) | dt.id] AS deferredBehind
ORDER BY task.id
