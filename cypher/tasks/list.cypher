// Tasks by id (ids sort by creation time) after a cursor, filtered.
MATCH (t:Task)
WHERE t.id > $after AND ($status IS NULL OR t.status = $status)
  AND ($capability IS NULL OR t.capability = $capability)
  AND ($agentId IS NULL OR t.agentId = $agentId)
RETURN properties(t) AS task, [(t)-[:MERGED_INTO]->(m:Task) | m.id][0] AS mergedInto,
       [(t)-[:DEFERRED_BEHIND]->(d:Task) | d.id] AS deferredBehind
ORDER BY t.id
LIMIT $limit
