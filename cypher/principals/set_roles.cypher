// An admin replaces a principal's roles ($roles), audited as principal.roles_changed with the
// roles before and after; the event also ends the principal's open sessions (a WebSocket
// keeps the roles it authenticated with, so a narrowed principal reconnects). Same roles:
// no write, no row with changed = false. No row: unknown principal.
MATCH (p:Principal {id: coalesce($id, '')})
WITH p, p.roles AS before
WITH p, before, size(before) = size($roles) AND all(r IN $roles WHERE r IN before) AS same
FOREACH (_ IN CASE WHEN same THEN [] ELSE [1] END |
  SET p.roles = $roles, p._lk = coalesce(p._lk, 0) + 1)
WITH p, before, same
OPTIONAL MATCH (c:Counter {name: 'event'})
WHERE NOT same
FOREACH (_ IN CASE WHEN same THEN [] ELSE [1] END |
  SET c.seq = c.seq + 1
  CREATE (e:Event {seq: c.seq, type: 'principal.roles_changed', at: $now, actor: $actor,
                   subject: p.id,
                   payload: replace($payload, '"before":null', '"before":[' +
                     reduce(t = '', r IN before | t + CASE WHEN t = '' THEN '' ELSE ',' END +
                                                  '"' + r + '"') + ']')})
  CREATE (e)-[:ON]->(p))
RETURN p.id AS id, before, NOT same AS changed
