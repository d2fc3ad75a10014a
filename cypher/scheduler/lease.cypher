// Take or renew the lease that lets one replica run a scheduler job. Not an Event: a lease is
// coordination plumbing renewed many times a second, not a change anyone audits.
MERGE (l:Lease {name: $name})
SET l._lk = coalesce(l._lk, 0) + 1
WITH l
WHERE coalesce(l.until, 0) < $now OR l.holder = $holder
SET l.until = $now + $ttl, l.holder = $holder
RETURN l.name AS name
