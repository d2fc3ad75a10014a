// Conformance: one queued probe.
CREATE (t:Probe {id: $id, status: 'queued'})
RETURN t.id AS id
