// Claim one due webhook delivery for the task's current assignment before sending it: the
// next try waits until $until (a crashed sender's claim runs out), so concurrent dispatch
// passes (or replicas) never send the same push twice at once. Fenced like webhooks/mark.
// Serialise with every other writer first (Neo4j: the counter's write lock before any
// node this statement touches, so lock order is the same everywhere and cannot deadlock).
MATCH (lk:Counter {name: 'event'})
SET lk._lk = timestamp()
WITH lk
MATCH (t:Task {id: coalesce($taskId, '')})
SET t._lk = coalesce(t._lk, 0) + 1
WITH t
WHERE t.fence = $fence AND t.status = 'assigned'
  AND coalesce(t.hookFence, 0) < t.fence AND coalesce(t.hookNextAt, 0) <= $now
SET t.hookNextAt = $until
RETURN t.id AS id
