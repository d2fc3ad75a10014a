// Retention, one batch: up to $limit Decision spans that ended before $cutoff and belong to
// no task (a task's spans go with it, tasks/retention): context reads outside a task, a
// run's and its steps' spans. $dry: count, delete nothing.
// Kept: a span of a running run; one that produced something still in the graph other
// than facts it saw (a proposal, a fact); one under an unexpired legal hold (on its run or
// the agent or principal it was BY).
MATCH (d:Decision)
WHERE d.endedAt < $cutoff
  AND NOT (d)-[:ON]->(:Task)
  AND NOT (d)-[:ON]->(:Proposal)
  AND NOT (d)-[:IN]->(:Run {status: 'running'})
  AND NOT (d)-[:PRODUCED]->()
WITH d, [(d)-[:IN|BY]->()<-[:ON]-(h:LegalHold) | coalesce(h.until, $forever)] AS holds
WHERE none(u IN holds WHERE u > $now)
WITH d
LIMIT $limit
WITH collect(d) AS ds
FOREACH (n IN CASE WHEN $dry THEN [] ELSE ds END | DETACH DELETE n)
RETURN size(ds) AS decisions
