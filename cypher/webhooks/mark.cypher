// Record a webhook delivery try for the task's current assignment: delivered (the agent has
// it), or failed with the next try's time. Fenced: a try for an old assignment changes nothing.
// Serialise with every other writer first (Neo4j: the counter's write lock before any
// node this statement touches, so lock order is the same everywhere and cannot deadlock).
MATCH (lk:Counter {name: 'event'})
SET lk._lk = timestamp()
WITH lk
MATCH (t:Task {id: coalesce($taskId, '')})
SET t._lk = coalesce(t._lk, 0) + 1
WITH t
WHERE t.fence = $fence AND t.status = 'assigned'
SET t.hookFence = CASE WHEN $delivered THEN t.fence ELSE t.hookFence END,
    t.hookTries = CASE WHEN $delivered THEN 0 ELSE coalesce(t.hookTries, 0) + 1 END,
    t.hookNextAt = CASE WHEN $delivered THEN null ELSE $nextAt END,
    t.hookError = $error
RETURN t.hookTries AS tries
