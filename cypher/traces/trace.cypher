// A run's trace: every Decision span in its trace id (run, steps, routing, claims, context
// reads, facts, proposals, approvals, merges, retries, completions) with the facts each SAW
// and what it PRODUCED, plus the run's tasks, which are spans themselves.
MATCH (r:Run {id: $runId})
OPTIONAL MATCH (d:Decision {traceId: r.traceId})
OPTIONAL MATCH (d)-[:SAW]->(f:Fact)
WITH r, d, collect(f.id) AS saw
OPTIONAL MATCH (d)-[:PRODUCED]->(x)
WITH r, d, saw, collect(x.id) AS produced
WITH r, collect(CASE WHEN d IS NULL THEN null
                     ELSE {span: properties(d), saw: saw, produced: produced} END) AS spans
OPTIONAL MATCH (t:Task {runId: r.id})
RETURN properties(r) AS run, spans,
       collect(CASE WHEN t IS NULL THEN null ELSE properties(t) END) AS tasks
