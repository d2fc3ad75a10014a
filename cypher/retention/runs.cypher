// Retention, one batch: up to $limit finished runs that ended before $cutoff, once their
// tasks and spans are gone (tasks/decisions retention run first), deleted with their steps
// and merge records. $dry: count, delete nothing.
// Kept: a run with a task or a span still in the graph, or a sub-run; one under an
// unexpired legal hold.
MATCH (r:Run)
WHERE r.endedAt < $cutoff AND r.status <> 'running'
  AND NOT (r)<-[:PART_OF]-(:Task)
  AND NOT (r)<-[:IN]-(:Decision)
  AND NOT (r)<-[:SUB_RUN_OF]-(:Run)
WITH r, [(r)<-[:ON]-(h:LegalHold) | coalesce(h.until, $forever)] AS holds
WHERE none(u IN holds WHERE u > $now)
WITH r
LIMIT $limit
OPTIONAL MATCH (r)<-[:STEP_OF|IN]-(x)
WHERE x:Step OR x:Merge
WITH r, collect(x) AS parts
WITH collect(r) AS rs, sum(size(parts)) AS nParts, collect(parts) AS attached
FOREACH (n IN CASE WHEN $dry THEN [] ELSE reduce(acc = rs, xs IN attached | acc + xs) END |
  DETACH DELETE n)
RETURN size(rs) AS runs, nParts AS steps
