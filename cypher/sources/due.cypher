// The sources the scheduler should sync now: active, with a schedule (intervalS > 0) or a
// sync asked for (`dueAt`), and due. Read only; an idle tick writes nothing.
MATCH (s:Source)
WHERE s.status = 'active' AND s.dueAt IS NOT NULL AND s.dueAt <= $now
RETURN s.id AS id
ORDER BY s.dueAt, id
LIMIT $limit
