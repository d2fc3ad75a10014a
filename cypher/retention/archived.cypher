// The audit archive grew by one day file (app/core/archive.py): its end moves from $prev to
// $through (only from $prev, so two archivers cannot both record a file) and the chain head
// to $head, with an `audit.archived` event naming the file, its seqs and its SHA-256.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MERGE (ar:Archive {name: 'events'})
ON CREATE SET ar.through = 0, ar.files = 0, ar.pruned = 0
WITH c, ar
WHERE ar.through = $prev
SET ar.through = $through, ar.day = $day, ar.head = $head, ar.files = ar.files + 1,
    ar.location = $location, ar.at = $now, c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'audit.archived', at: $now, actor: 'retention',
                 subject: $day, payload: $payload})
RETURN ar.through AS through
