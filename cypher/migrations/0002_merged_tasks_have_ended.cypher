// v2: a task merged into another at submission has ended then (`endedAt`), like every other
// finished task, so retention (retention/tasks) can find it by its end; tasks merged before
// this version get their creation time.
MATCH (t:Task {status: 'merged'})
WHERE t.endedAt IS NULL
SET t.endedAt = t.createdAt
