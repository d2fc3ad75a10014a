// How far the trigger job has read the event log.
OPTIONAL MATCH (k:Cursor {name: coalesce($name, '')})
RETURN coalesce(k.seq, -1) AS seq
