// Agents by id after a cursor, optionally only those with a status or capability.
MATCH (a:Agent)
WHERE a.id + '' > $after AND ($status IS NULL OR a.status = $status)
  AND ($capability IS NULL OR $capability IN a.capabilities)
RETURN properties(a) AS agent
ORDER BY a.id
LIMIT $limit
