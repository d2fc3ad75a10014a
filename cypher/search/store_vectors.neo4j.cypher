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
WITH count(n) AS written
// Word counts ($terms: [{word, docs}], the batch's texts per word) beside the full-text index:
// search asks the engine for a query's rare words (app.core.search_text.text_query). A batch
// that wrote nothing counts nothing.
FOREACH (t IN CASE WHEN written > 0 THEN $terms ELSE [] END |
  MERGE (w:Term {word: t.word})
  ON CREATE SET w.docs = t.docs
  ON MATCH SET w.docs = w.docs + t.docs)
RETURN written
