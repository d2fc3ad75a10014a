// The highest event seq retention has deleted from the graph (0: none): a subscriber that
// resumes from an older cursor would miss events, so it is refused (CURSOR_EXPIRED).
OPTIONAL MATCH (ar:Archive {name: 'events'})
RETURN coalesce(ar.pruned, 0) AS pruned
