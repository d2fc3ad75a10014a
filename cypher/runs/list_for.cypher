// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block reads the caller's readable domains
// and cleared labels off its own node (readDomains / readLabels, kept by the statements that
// change memberships and grants); then each row is filtered by its label's readable clause
// (fact, entity, task, proposal; the generic one where labels mix), each the same text in
// every statement (tests/security/test_grant_clause.py checks it).
// A page of runs as the caller may see them (the API's `runs`), newest first, optionally of
// one workflow or status; input, trigger, result and error hidden as in runs/state_for.
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
MATCH (r:Run)
WHERE ($workflow IS NULL OR r.workflow = $workflow) AND ($status IS NULL OR r.status = $status)
  AND ($before IS NULL OR r.startedAt < $before OR (r.startedAt = $before AND r.id < $beforeId))
WITH domains, cleared, r
ORDER BY r.startedAt DESC, r.id DESC
LIMIT $limit
OPTIONAL MATCH (n:Task {runId: r.id})
WITH r, collect(CASE WHEN n IS NOT NULL THEN coalesce($all OR (n.agentId = $agentId OR n.submittedBy = $callerId
      OR all(y IN [(n)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id] WHERE y IN domains)), false) END) AS oks
WITH r, $all OR (size(oks) > 0 AND all(x IN oks WHERE x)) AS open
RETURN CASE WHEN open THEN properties(r)
            WHEN r.startedBy = $callerId THEN r {.*, result: null, error: null, _hidden: true}
            ELSE r {.*, input: null, trigger: null, result: null, error: null, _hidden: true}
       END AS run, r.startedAt AS at, r.id AS rid
ORDER BY at DESC, rid DESC
