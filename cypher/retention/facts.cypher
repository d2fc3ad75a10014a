// Retention, one batch: up to $limit facts observed before $cutoff that are history, either
// superseded (by a newer fact on the same key) before $cutoff or expired (validTo) before
// it, and that nothing still needs. $dry: count, delete nothing.
// Kept: a fact a current fact was derived from, directly or through older facts (a live
// fact's lineage); one under an unexpired legal hold (on the fact, its entity or the agent
// that asserted it). Deleting one leaves its successor current, without a predecessor.
MATCH (f:Fact)
WHERE f.observedAt < $cutoff
  AND (f.current = false OR f.validTo < $cutoff)
  AND NOT (f)<-[:DERIVED_FROM*1..]-(:Fact {current: true})
WITH f, [(f)<-[:ON]-(h1:LegalHold) | coalesce(h1.until, $forever)] +
          [(f)-[:ABOUT|ASSERTED_BY]->()<-[:ON]-(h2:LegalHold)
                  | coalesce(h2.until, $forever)] AS holds,
       [(nf:Fact)-[s:SUPERSEDES]->(f) | s.at] AS superseded
WHERE none(u IN holds WHERE u > $now)
  AND (f.validTo < $cutoff OR all(at IN superseded WHERE at < $cutoff))
WITH f
LIMIT $limit
FOREACH (_ IN CASE WHEN $dry THEN [] ELSE [1] END | SET f._lk = $now)
WITH collect(f) AS fs
FOREACH (n IN CASE WHEN $dry THEN [] ELSE fs END | DETACH DELETE n)
RETURN size(fs) AS facts
