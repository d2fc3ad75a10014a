// Where retention stands: the audit archive's end (the highest archived seq, its day and
// the SHA-256 chain head) and the highest seq pruned from the graph. One row, also before
// the first archive.
OPTIONAL MATCH (ar:Archive {name: 'events'})
RETURN coalesce(ar.through, 0) AS through, ar.day AS day, ar.head AS head,
       ar.files AS files, ar.location AS location, coalesce(ar.pruned, 0) AS pruned
