// A page of runs, newest first, optionally of one workflow or status.
MATCH (r:Run)
WHERE ($workflow IS NULL OR r.workflow = $workflow) AND ($status IS NULL OR r.status = $status)
  AND ($before IS NULL OR r.startedAt < $before OR (r.startedAt = $before AND r.id < $beforeId))
RETURN properties(r) AS run
ORDER BY r.startedAt DESC, r.id DESC
LIMIT $limit
