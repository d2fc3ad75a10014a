// A new graph starts at this code's model version: recorded once, before the event counter
// exists (plumbing like the counter itself: nothing happened, so no event).
MERGE (s:Schema {id: 'graph'})
ON CREATE SET s.version = $version, s.migratedAt = $now
RETURN s.version AS version
