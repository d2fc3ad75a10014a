// FalkorDB schema: exact-match indexes, then uniqueness constraints (which need them).
// No IF NOT EXISTS here: 'already indexed' errors are expected on re-application and swallowed.
CREATE INDEX FOR (n:Agent) ON (n.id);
CREATE INDEX FOR (n:Principal) ON (n.id);
CREATE INDEX FOR (n:Team) ON (n.id);
CREATE INDEX FOR (n:Domain) ON (n.id);
CREATE INDEX FOR (n:Entity) ON (n.id);
CREATE INDEX FOR (n:Fact) ON (n.id);
CREATE INDEX FOR (n:Task) ON (n.id);
CREATE INDEX FOR (n:Resource) ON (n.id);
CREATE INDEX FOR (n:Workflow) ON (n.id);
CREATE INDEX FOR (n:Run) ON (n.id);
CREATE INDEX FOR (n:Proposal) ON (n.id);
CREATE INDEX FOR (n:Policy) ON (n.id);
CREATE INDEX FOR (n:Budget) ON (n.id);
CREATE INDEX FOR (n:Decision) ON (n.id);
CREATE INDEX FOR (n:Trigger) ON (n.id);
CREATE INDEX FOR (n:Principal) ON (n.tokenHash);
CREATE INDEX FOR (n:Task) ON (n.status);
CREATE INDEX FOR (n:Task) ON (n.dedupKey);
CREATE INDEX FOR (n:Task) ON (n.capability);
CREATE INDEX FOR (n:Task) ON (n.qk);
CREATE INDEX FOR (n:Task) ON (n.agentId);
CREATE INDEX FOR (n:Fact) ON (n.key);
CREATE INDEX FOR (n:Event) ON (n.seq);
// Event(type) serves metrics/summary's counts by type and the type-filtered event reads
// (tests/graph/test_event_type_index.py). Rebuilding it on load costs ~0.25 s a million events.
CREATE INDEX FOR (n:Event) ON (n.type);
CREATE INDEX FOR (n:Counter) ON (n.name);
CREATE INDEX FOR (n:Lease) ON (n.name);
CREATE INDEX FOR (n:Workflow) ON (n.name);
CREATE INDEX FOR (n:Agent) ON (n.status);
CREATE INDEX FOR (n:CostEntry) ON (n.id);
CREATE INDEX FOR (n:CostEntry) ON (n.charged);
CREATE INDEX FOR (n:Budget) ON (n.exhausted);
CREATE INDEX FOR (n:Label) ON (n.name);
CREATE INDEX FOR (n:Fact) ON (n.entityId);
CREATE INDEX FOR (n:Event) ON (n.key);
CREATE INDEX FOR (n:Step) ON (n.id);
CREATE INDEX FOR (n:Run) ON (n.status);
CREATE INDEX FOR (n:Task) ON (n.runId);
CREATE INDEX FOR (n:Trigger) ON (n.workflow);
CREATE INDEX FOR (n:Cursor) ON (n.name);
CREATE INDEX FOR (n:Merge) ON (n.id);
CREATE INDEX FOR (n:Task) ON (n.endedAt);
CREATE INDEX FOR (n:Decision) ON (n.endedAt);
CREATE INDEX FOR (n:Fact) ON (n.observedAt);
CREATE INDEX FOR (n:Run) ON (n.endedAt);
CREATE INDEX FOR (n:Run) ON (n.workflow);
CREATE INDEX FOR (n:Archive) ON (n.name);
CREATE INDEX FOR (n:LegalHold) ON (n.id);
CREATE INDEX FOR (n:Source) ON (n.id);
CREATE INDEX FOR (n:Proposal) ON (n.status);
// Search (cypher/search/): the embedding job finds its work by needsEmbedding, vectors are
// vecf32 in an HNSW index (cosine, queryNodes answers a distance, 1 - cosine similarity) of
// $embeddingDim dimensions (settings.embedding_dim, passed by the store), efRuntime 100
// instead of 10 (recall@10 0.5 -> 1.0 on 1,000 random 64-d vectors). Full-text on `text`
// (RediSearch: English stemming, default stop words). Term: texts per word (search/term_docs).
CREATE INDEX FOR (n:Fact) ON (n.needsEmbedding);
CREATE INDEX FOR (n:Entity) ON (n.needsEmbedding);
CREATE VECTOR INDEX FOR (n:Fact) ON (n.embedding) OPTIONS {dimension: $embeddingDim, similarityFunction: 'cosine', M: 16, efConstruction: 200, efRuntime: 100};
CREATE VECTOR INDEX FOR (n:Entity) ON (n.embedding) OPTIONS {dimension: $embeddingDim, similarityFunction: 'cosine', M: 16, efConstruction: 200, efRuntime: 100};
CALL db.idx.fulltext.createNodeIndex('Fact', 'text');
CALL db.idx.fulltext.createNodeIndex('Entity', 'text');
CREATE INDEX FOR (n:Term) ON (n.word);
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Agent PROPERTIES 1 id;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Principal PROPERTIES 1 id;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Team PROPERTIES 1 id;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Domain PROPERTIES 1 id;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Entity PROPERTIES 1 id;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Fact PROPERTIES 1 id;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Task PROPERTIES 1 id;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Resource PROPERTIES 1 id;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Workflow PROPERTIES 1 id;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Run PROPERTIES 1 id;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Proposal PROPERTIES 1 id;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Policy PROPERTIES 1 id;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Budget PROPERTIES 1 id;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Trigger PROPERTIES 1 id;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Event PROPERTIES 1 seq;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Counter PROPERTIES 1 name;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Lease PROPERTIES 1 name;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Step PROPERTIES 1 id;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Cursor PROPERTIES 1 name;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Archive PROPERTIES 1 name;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE LegalHold PROPERTIES 1 id;
GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Source PROPERTIES 1 id;
