// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block reads the caller's readable domains
// and cleared labels off its own node (readDomains / readLabels, kept by the statements that
// change memberships and grants); then each row is filtered by its label's readable clause
// (fact, entity, task, proposal; the generic one where labels mix), each the same text in
// every statement (tests/security/test_grant_clause.py checks it).
// Several tasks ($ids) as the caller may see them, as tasks/get_for answers for one (the same
// grants: payload, result, errors and feedback are null unless the task is readable): one row
// per task that exists, in no particular order. The batched read behind the per-row fields of
// the GraphQL Task type (history, mergedInto, deferredBehind, survivor).
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
UNWIND coalesce($ids, []) AS id
MATCH (n:Task {id: id})
WITH n, $all OR (n.agentId = $agentId OR n.submittedBy = $callerId
      OR all(y IN [(n)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id] WHERE y IN domains)) AS ok
OPTIONAL MATCH (n)-[r:ASSIGNED_TO]->(a:Agent)
WITH n, ok, r, a
ORDER BY r.attempt
WITH n, ok, [x IN collect({attempt: r.attempt, fence: r.fence, agentId: a.id, at: r.at,
                           via: r.via, outcome: r.outcome, endedAt: r.endedAt})
             WHERE x.agentId IS NOT NULL] AS history
OPTIONAL MATCH (n)-[:MERGED_INTO]->(m:Task)
OPTIONAL MATCH (n)-[:DEFERRED_BEHIND]->(dt:Task)
RETURN CASE WHEN ok THEN properties(n)
            ELSE n {.*, payload: null, result: null, errors: [], feedback: null, _hidden: true}
       END AS task, history, m.id AS mergedInto, collect(dt.id) AS deferredBehind
