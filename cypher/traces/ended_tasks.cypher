// Tasks (each is its own span) that ended in (after, until], with the hot-path decisions ON
// them (routing, completions, retries: they take their trace from the task) and its claims
// (ASSIGNED_TO {via: 'claim'} edges), for the
// OpenTelemetry export job.
MATCH (t:Task)
WHERE t.endedAt > $after AND t.endedAt <= $until AND t.spanId IS NOT NULL
WITH t
ORDER BY t.endedAt
LIMIT $limit
OPTIONAL MATCH (d:Decision)-[:ON]->(t)
WHERE d.endedAt IS NULL
WITH t, collect(properties(d)) AS decisions
OPTIONAL MATCH (t)-[c:ASSIGNED_TO {via: 'claim'}]->(ca:Agent)
RETURN properties(t) AS span, 'task' AS kind, decisions,
       collect({id: t.id + '/' + toString(c.fence) + '/claim', name: 'claim', at: c.at,
                taskId: t.id, agentId: ca.id}) AS claims
