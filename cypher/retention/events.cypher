// Retention, one batch: up to $limit events at or below seq $through (the caller passes the
// last archived seq of the days that ended by $cutoff) that happened before $cutoff,
// deleted from the graph: they are in the audit archive already. $dry: count,
// delete nothing. The archive records the highest seq deleted (`pruned`), so a reader can
// tell history that was archived from history that never was.
// Kept: an event that started a running run; one about a legal hold; one about something
// under an unexpired legal hold (on it, or on the run, entity or agent of the task or fact
// it is about).
OPTIONAL MATCH (ar:Archive {name: 'events'})
WITH ar
MATCH (e:Event)
WHERE e.seq <= $through AND e.seq <= coalesce(ar.through, 0) AND e.at < $cutoff
  AND NOT (e)<-[:TRIGGERED_BY]-(:Run {status: 'running'})
  AND NOT (e)-[:ON]->(:LegalHold)
WITH e, [(e)-[:ON]->()<-[:ON]-(h1:LegalHold) | coalesce(h1.until, $forever)] +
          [(e)-[:ON]->()-[:TOUCHES|ABOUT|PART_OF|ASSIGNED_TO|ASSERTED_BY]->()
                  <-[:ON]-(h2:LegalHold) | coalesce(h2.until, $forever)] AS holds
WHERE none(u IN holds WHERE u > $now)
WITH e
LIMIT $limit
WITH collect(e) AS es, max(e.seq) AS top
OPTIONAL MATCH (ar:Archive {name: 'events'})
WITH es, top, ar
FOREACH (_ IN CASE WHEN $dry OR top IS NULL OR ar IS NULL THEN [] ELSE [1] END |
  SET ar.pruned = CASE WHEN coalesce(ar.pruned, 0) > top THEN ar.pruned ELSE top END)
FOREACH (n IN CASE WHEN $dry THEN [] ELSE es END | DETACH DELETE n)
RETURN size(es) AS events
