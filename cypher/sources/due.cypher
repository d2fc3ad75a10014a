// The sources the scheduler should sync now (`dueAt` passed): scheduled ones, ones a sync
// was asked for, removed ones whose entities are still to retire. Read only; an idle tick
// writes nothing.
MATCH (s:Source)
WHERE s.dueAt IS NOT NULL AND s.dueAt <= $now
RETURN s.id AS id
ORDER BY s.dueAt, id
LIMIT $limit
