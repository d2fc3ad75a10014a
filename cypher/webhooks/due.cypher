// Tasks pushed to webhook agents that still need delivering: assigned, not yet delivered
// under their current fencing token, and due (after a failed try's backoff, or after an
// in-flight claim ran out). At most $perAgent per agent, so one agent with a long backlog
// does not fill the page and hold up the others.
MATCH (a:Agent)
WHERE a.webhookUrl IS NOT NULL AND a.status = 'online'
MATCH (t:Task {agentId: a.id, status: 'assigned'})
WHERE coalesce(t.hookFence, 0) < t.fence AND coalesce(t.hookNextAt, 0) <= $now
WITH a, collect(t)[..$perAgent] AS due
UNWIND due AS t
RETURN properties(t) AS task, a.id AS agentId, a.webhookUrl AS url,
       a.webhookSecret AS secret
LIMIT $limit
