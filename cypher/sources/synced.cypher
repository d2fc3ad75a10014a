// A sync of the source ended ($error: null when it succeeded): when it ran, its revision,
// and when it is next due (now + its interval; none without a schedule). No Event: this is
// the scheduler's bookkeeping (the sync wrote one per change).
MATCH (s:Source {id: coalesce($source, '')})
SET s.checkedAt = $now, s.lastError = $error,
    s.syncedAt = CASE WHEN $error IS NULL THEN $now ELSE s.syncedAt END,
    s.rev = CASE WHEN $error IS NULL THEN $rev ELSE s.rev END,
    s.dueAt = CASE WHEN s.intervalS > 0 AND s.status = 'active'
                   THEN $now + s.intervalS * 1000 ELSE null END
RETURN s.id AS id
