// One read per scrape: lifetime counts from the event log for the types that matter
// (indexed by type), approvals pending and their mean time to a human decision, and runs by
// status.
OPTIONAL MATCH (e:Event)
WHERE e.type IN $types
WITH e.type AS type, count(e) AS n
WITH collect(CASE WHEN type IS NULL THEN null ELSE {type: type, n: n} END) AS events
OPTIONAL MATCH (p:Proposal)
WITH events,
     sum(CASE WHEN p.status = 'pending' THEN 1 ELSE 0 END) AS pending,
     avg(CASE WHEN p.decidedAt IS NOT NULL AND p.decidedBy <> 'policy'
              THEN p.decidedAt - p.createdAt ELSE null END) AS decideMs
OPTIONAL MATCH (r:Run)
WITH events, pending, decideMs, r.status AS status, count(r) AS n
RETURN events, pending, decideMs,
       collect(CASE WHEN status IS NULL THEN null ELSE {status: status, n: n} END) AS runs
