// Tasks pushed to webhook agents that still need delivering: assigned, not yet delivered
// under their current fencing token, and due (after a failed try's backoff).
MATCH (a:Agent)
WHERE a.webhookUrl IS NOT NULL AND a.status = 'online'
MATCH (t:Task {agentId: a.id, status: 'assigned'})
WHERE coalesce(t.hookFence, 0) < t.fence AND coalesce(t.hookNextAt, 0) <= $now
RETURN properties(t) AS task, a.id AS agentId, a.webhookUrl AS url,
       a.webhookSecret AS secret
LIMIT $limit
