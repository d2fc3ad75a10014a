// Tasks by id (ids sort by creation time) after a cursor, filtered.
MATCH (t:Task)
WHERE t.id > $after AND ($status IS NULL OR t.status = $status)
  AND ($capability IS NULL OR t.capability = $capability)
  AND ($agentId IS NULL OR t.agentId = $agentId)
RETURN properties(t) AS task
ORDER BY t.id
LIMIT $limit
