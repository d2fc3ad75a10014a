// Embedding work (app.core.search.embed_pending): up to $limit facts and up to $limit
// entities whose text has no vector yet. Writers set `needsEmbedding: true` (indexed) with
// the text; search/store_vectors removes it with the vector. Superseded facts lose the flag
// (context/assert_fact): history is never searched, so it is not embedded.
MATCH (f:Fact {needsEmbedding: true})
WITH f
LIMIT $limit
RETURN 'fact' AS label, f.id AS id, f.text AS text
UNION ALL
MATCH (e:Entity {needsEmbedding: true})
WITH e
LIMIT $limit
RETURN 'entity' AS label, e.id AS id, e.text AS text
