// How much work waits, per capability and status (for the tasks query and /metrics).
MATCH (t:Task)
WHERE t.status IN ['queued', 'deferred', 'assigned', 'running', 'awaiting_approval', 'dead']
RETURN t.capability AS capability, t.status AS status, count(t) AS n,
       min(t.queuedAt) AS oldest
ORDER BY capability, status
