// One task with its attempt history, and the task it was merged into or deferred behind.
MATCH (t:Task {id: coalesce($id, '')})
OPTIONAL MATCH (t)-[r:ASSIGNED_TO]->(a:Agent)
WITH t, r, a
ORDER BY r.attempt
WITH t, [x IN collect({attempt: r.attempt, fence: r.fence, agentId: a.id, at: r.at,
                       via: r.via, outcome: r.outcome, endedAt: r.endedAt})
         WHERE x.agentId IS NOT NULL] AS history
OPTIONAL MATCH (t)-[:MERGED_INTO]->(m:Task)
OPTIONAL MATCH (t)-[:DEFERRED_BEHIND]->(d:Task)
RETURN properties(t) AS task, history, m.id AS mergedInto, collect(d.id) AS deferredBehind
