// A trigger whose event matched (type and `when`) but that could not start its workflow
// (a missing input, an unknown workflow): recorded once per (trigger, event) as a
// trigger.skipped event on the trigger, with the reason. $key names the pair, so the job
// reading the same event again (after a crash before its cursor moved) records nothing new.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (tr:Trigger {id: coalesce($triggerId, '')})
OPTIONAL MATCH (old:Event {key: coalesce($key, '')})
WHERE old.type = 'trigger.skipped'
WITH c, tr, old
ORDER BY old.seq
LIMIT 1
FOREACH (_ IN CASE WHEN old IS NULL THEN [1] ELSE [] END |
  SET c.seq = c.seq + 1
  CREATE (e:Event {seq: c.seq, type: 'trigger.skipped', at: $now, actor: $actor,
                   subject: tr.id, payload: $payload, key: $key})
  CREATE (e)-[:ON]->(tr))
RETURN old IS NULL AS written
