// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block (the caller's readable domains and
// cleared labels) and the readable(n) expression are the same text in every statement that
// filters by them (tests/security/test_read_grants.py checks it).
// Tasks by id after a cursor, filtered, as the caller may see them (see tasks/get_for).
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(d:Domain)
WITH reader, collect(DISTINCT d.id) AS domains
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(l:Label)
WITH domains, collect(DISTINCT l.name) AS cleared
MATCH (n:Task)
WHERE n.id > $after AND ($status IS NULL OR n.status = $status)
  AND ($capability IS NULL OR n.capability = $capability)
  AND ($agentFilter IS NULL OR n.agentId = $agentFilter)
WITH domains, cleared, n
ORDER BY n.id
LIMIT $limit
WITH n, $all OR NOT any(lb IN labels(n) WHERE lb IN ['Fact', 'Task', 'Proposal', 'Entity'])
       OR ('Fact' IN labels(n) AND n.domain IN domains
           AND (n.sensitivity IS NULL OR n.sensitivity IN cleared))
       OR ('Task' IN labels(n) AND (n.agentId = $agentId OR n.submittedBy = $callerId
           OR all(y IN [(n)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id]
                  WHERE y IN domains)))
       OR ('Proposal' IN labels(n) AND (n.agentId = $agentId
           OR size([(n)-[:ROUTED_TO|ESCALATED_TO]->(h:Principal {id: $callerId}) | h.id]) > 0
           OR all(y IN [(n)-[:FOR]->(:Task)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(pd:Domain) | pd.id]
                  WHERE y IN domains)))
       OR ('Entity' IN labels(n)
           AND all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains)) AS ok
RETURN CASE WHEN ok THEN properties(n)
            ELSE n {.*, payload: null, result: null, errors: [], feedback: null, _hidden: true}
       END AS task, [(n)-[:MERGED_INTO]->(m:Task) | m.id][0] AS mergedInto,
       [(n)-[:DEFERRED_BEHIND]->(dt:Task) | dt.id] AS deferredBehind
ORDER BY task.id
