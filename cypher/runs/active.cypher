// Runs the engine should look at: running ones, least recently advanced first.
MATCH (r:Run {status: 'running'})
RETURN r.id AS id
ORDER BY r.updatedAt
LIMIT $limit
