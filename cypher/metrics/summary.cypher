// One read per scrape: lifetime counts from the event log for the types that matter
// (indexed by type), approvals pending, how long humans took to decide proposals (count,
// mean and percentiles of decidedAt - createdAt; decisions the policy made on expiry are
// not a human's), and runs by status.
// Each part is a unit subquery (one row out), so no part's rows carry the others' values:
// 7.7 ms on 100k events / 2k proposals (bench/metrics.py) against 19 ms chained with WITH.
// `CALL {` (no scope clause) is the form both run: FalkorDB 4.16 rejects `CALL () {`, and
// Neo4j 5 accepts `CALL {` (newer 5.x releases only warn that it is deprecated).
CALL {
  OPTIONAL MATCH (e:Event)
  WHERE e.type IN $types
  WITH e.type AS type, count(e) AS n
  RETURN collect(CASE WHEN type IS NULL THEN null ELSE {type: type, n: n} END) AS events
}
CALL {
  OPTIONAL MATCH (p:Proposal)
  WITH p.status AS status,
       CASE WHEN p.decidedAt IS NOT NULL AND coalesce(p.decidedBy, '') <> 'policy'
            THEN p.decidedAt - p.createdAt ELSE null END AS ms
  RETURN sum(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending,
         count(ms) AS decided, avg(ms) AS decideMs,
         percentileCont(ms, 0.5) AS decideP50, percentileCont(ms, 0.9) AS decideP90,
         percentileCont(ms, 0.99) AS decideP99
}
CALL {
  OPTIONAL MATCH (r:Run)
  WITH r.status AS status, count(r) AS n
  RETURN collect(CASE WHEN status IS NULL THEN null ELSE {status: status, n: n} END) AS runs
}
RETURN events, pending, decided, decideMs, decideP50, decideP90, decideP99, runs
