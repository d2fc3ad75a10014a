// One pruning run is over: one `retention.pruned` event with what it deleted, per kind
// ($payload), and the cutoffs it used.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'retention.pruned', at: $now, actor: $actor,
                 subject: 'retention', payload: $payload})
RETURN e.seq AS seq
