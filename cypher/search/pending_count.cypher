// The embedding backlog (embedding_pending): facts and entities flagged needsEmbedding.
OPTIONAL MATCH (f:Fact {needsEmbedding: true})
WITH count(f) AS facts
OPTIONAL MATCH (e:Entity {needsEmbedding: true})
RETURN facts, count(e) AS entities
