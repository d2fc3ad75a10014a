// A sync of the source ended ($error: null when it succeeded): when it ran, its revision,
// when it is next due (now + its interval; none without a schedule) and, when it read the
// source ($input: {hash, files, rejected, skipped}, JSON strings), what it read and refused.
// No Event: this is the scheduler's bookkeeping (the sync wrote one per change).
MATCH (s:Source {id: coalesce($source, '')})
SET s.checkedAt = $now, s.lastError = $error,
    s.inputHash = CASE WHEN $input IS NULL THEN s.inputHash ELSE $input.hash END,
    s.inputFiles = CASE WHEN $input IS NULL THEN s.inputFiles ELSE $input.files END,
    s.rejected = CASE WHEN $input IS NULL THEN s.rejected ELSE $input.rejected END,
    s.skipped = CASE WHEN $input IS NULL THEN s.skipped ELSE $input.skipped END,
    s.syncedAt = CASE WHEN $error IS NULL THEN $now ELSE s.syncedAt END,
    s.rev = coalesce($rev, s.rev),
    s.dueAt = CASE WHEN s.intervalS > 0 AND s.status = 'active'
                   THEN $now + s.intervalS * 1000 ELSE null END
RETURN s.id AS id
