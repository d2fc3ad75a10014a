// Conformance: lock, re-check, update; exactly one of many concurrent callers wins.
MATCH (t:Probe {id: $id})
SET t._lk = coalesce(t._lk, 0) + 1
WITH t
WHERE t.status = 'queued'
SET t.status = 'assigned', t.owner = $owner
RETURN t.owner AS owner
