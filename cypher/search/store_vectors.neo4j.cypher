// Store a batch of vectors ($rows: [{fact | entity: id, text, vector}]) in one statement,
// as float[] through db.create.setNodeVectorProperty (half the size of a list of doubles),
// and clear needsEmbedding. A row whose node is gone, already embedded, or whose text
// changed since search/pending read it writes nothing (a changed text keeps its flag).
UNWIND $rows AS r
OPTIONAL MATCH (f:Fact {id: coalesce(r.fact, '')})
OPTIONAL MATCH (e:Entity {id: coalesce(r.entity, '')})
WITH r, coalesce(f, e) AS n
WHERE n IS NOT NULL AND n.needsEmbedding = true AND n.text = r.text
CALL db.create.setNodeVectorProperty(n, 'embedding', r.vector)
SET n.needsEmbedding = null
RETURN count(n) AS written
