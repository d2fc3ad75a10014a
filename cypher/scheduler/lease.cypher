// Take or renew the lease that makes one replica the one that runs the scheduler's jobs.
// Not an Event: a lease is coordination plumbing, not a change anyone audits.
// No work, no write: while another replica holds a lease that has not run out, the cheap
// check ends the statement before anything is locked or written.
OPTIONAL MATCH (g:Lease {name: coalesce($name, '')})
WITH g
WHERE g IS NULL OR coalesce(g.until, 0) < $now OR g.holder = $holder
WITH 1 AS due
LIMIT 1
MERGE (l:Lease {name: $name})
SET l._lk = coalesce(l._lk, 0) + 1
WITH l
WHERE coalesce(l.until, 0) < $now OR l.holder = $holder
SET l.until = $now + $ttl, l.holder = $holder
RETURN l.name AS name
