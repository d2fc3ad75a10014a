// Retention, one batch (README "Operating Baton"): up to $limit finished tasks that ended
// before $cutoff and that nothing still needs, deleted with their Decision spans and their
// decided proposals (and the proposals' spans). $dry: count, delete nothing.
// Kept: a task of a running run; one with a pending proposal; one another task still
// points at (a child, a task deferred behind it or merged into it: those go first); one a
// current fact was derived from, directly or through older facts (a live fact's lineage);
// one under an unexpired legal hold (on the task, its run, its agent or an entity it
// touches). Each task is locked, then re-checked, so a concurrent re-queue wins.
MATCH (t:Task)
WHERE t.endedAt < $cutoff
  AND t.status IN ['done', 'failed', 'dead', 'cancelled', 'merged']
  AND NOT (t)<-[:CHILD_OF|DEFERRED_BEHIND|MERGED_INTO]-(:Task)
  AND NOT (t)-[:PART_OF]->(:Run {status: 'running'})
  AND NOT (t)<-[:FOR]-(:Proposal {status: 'pending'})
  AND NOT (t)<-[:DERIVED_FROM*1..]-(:Fact {current: true})
WITH t, [(t)<-[:ON]-(h1:LegalHold) | coalesce(h1.until, $forever)] +
          [(t)-[:PART_OF|TOUCHES|ASSIGNED_TO]->()<-[:ON]-(h2:LegalHold)
                  | coalesce(h2.until, $forever)] AS holds
WHERE none(u IN holds WHERE u > $now)
WITH t
LIMIT $limit
FOREACH (_ IN CASE WHEN $dry THEN [] ELSE [1] END | SET t._lk = $now)
WITH t
WHERE t.status IN ['done', 'failed', 'dead', 'cancelled', 'merged']
OPTIONAL MATCH (t)<-[:ON]-(d:Decision)
WITH t, collect(d) AS spans
OPTIONAL MATCH (t)<-[:FOR]-(p:Proposal)
OPTIONAL MATCH (p)<-[:ON]-(pd:Decision)
WITH t, spans, collect(DISTINCT p) AS props, collect(DISTINCT pd) AS propSpans
WITH collect(t) AS ts, sum(size(spans) + size(propSpans)) AS nSpans,
     sum(size(props)) AS nProps, collect(spans + props + propSpans) AS attached
FOREACH (n IN CASE WHEN $dry THEN [] ELSE reduce(acc = ts, xs IN attached | acc + xs) END |
  DETACH DELETE n)
RETURN size(ts) AS tasks, nSpans AS decisions, nProps AS proposals
