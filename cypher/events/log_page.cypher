// A page of the event log for the JSON log stream: each event with the trace id of what it
// is about (a task's, a run's), so log lines join the traces.
MATCH (e:Event)
WHERE e.seq > $after
WITH e
ORDER BY e.seq
LIMIT $limit
OPTIONAL MATCH (e)-[:ON]->(x)
RETURN e.seq AS seq, e.type AS type, e.at AS at, e.actor AS actor, e.subject AS subject,
       e.payload AS payload, x.traceId AS traceId, x.spanId AS spanId
ORDER BY seq
