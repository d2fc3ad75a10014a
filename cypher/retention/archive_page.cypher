// The next events to archive: seqs ($after, $after + $limit], oldest first, whole (the
// audit archive holds every payload). A window on the indexed seq, no grant filter and no
// sort of the log, so the read is short and writers barely wait for it.
MATCH (e:Event)
WHERE e.seq > $after AND e.seq <= $after + $limit
RETURN e.seq AS seq, e.type AS type, e.at AS at, e.actor AS actor, e.subject AS subject,
       e.payload AS payload, false AS hidden, e.key AS key, e.agentId AS agentId
ORDER BY seq
