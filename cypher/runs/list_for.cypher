// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block (the caller's readable domains and
// cleared labels) and the readable(n) expression are the same text in every statement that
// filters by them (tests/security/test_read_grants.py checks it).
// A page of runs as the caller may see them (the API's `runs`), newest first, optionally of
// one workflow or status; input, trigger, result and error hidden as in runs/state_for.
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(d:Domain)
WITH reader, collect(DISTINCT d.id) AS domains
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(l:Label)
WITH domains, collect(DISTINCT l.name) AS cleared
MATCH (r:Run)
WHERE ($workflow IS NULL OR r.workflow = $workflow) AND ($status IS NULL OR r.status = $status)
  AND ($before IS NULL OR r.startedAt < $before OR (r.startedAt = $before AND r.id < $beforeId))
WITH domains, cleared, r
ORDER BY r.startedAt DESC, r.id DESC
LIMIT $limit
OPTIONAL MATCH (n:Task {runId: r.id})
WITH r, collect(coalesce($all OR NOT any(lb IN labels(n) WHERE lb IN ['Fact', 'Task', 'Proposal', 'Entity'])
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
            AND all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains)), false)) AS oks
WITH r, $all OR (size(oks) > 0 AND all(x IN oks WHERE x)) AS open
RETURN CASE WHEN open THEN properties(r)
            WHEN r.startedBy = $callerId THEN r {.*, result: null, error: null, _hidden: true}
            ELSE r {.*, input: null, trigger: null, result: null, error: null, _hidden: true}
       END AS run, r.startedAt AS at, r.id AS rid
ORDER BY at DESC, rid DESC
