// Neo4j 5 schema: named, IF NOT EXISTS, so re-application is a no-op.
CREATE CONSTRAINT agent_id IF NOT EXISTS FOR (n:Agent) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT principal_id IF NOT EXISTS FOR (n:Principal) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT team_id IF NOT EXISTS FOR (n:Team) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT domain_id IF NOT EXISTS FOR (n:Domain) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT fact_id IF NOT EXISTS FOR (n:Fact) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT task_id IF NOT EXISTS FOR (n:Task) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT resource_id IF NOT EXISTS FOR (n:Resource) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT workflow_id IF NOT EXISTS FOR (n:Workflow) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT run_id IF NOT EXISTS FOR (n:Run) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT proposal_id IF NOT EXISTS FOR (n:Proposal) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT policy_id IF NOT EXISTS FOR (n:Policy) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT budget_id IF NOT EXISTS FOR (n:Budget) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT decision_id IF NOT EXISTS FOR (n:Decision) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT trigger_id IF NOT EXISTS FOR (n:Trigger) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT event_seq IF NOT EXISTS FOR (n:Event) REQUIRE n.seq IS UNIQUE;
// The event counter is looked up by `name` through a plain index, not a unique constraint:
// a unique seek in a writing statement takes a shared lock that every statement then upgrades
// to write the counter, and concurrent upgrades deadlock. Uniqueness lives on `key`
// (written once, by events/bootstrap), so a second counter still cannot appear.
DROP CONSTRAINT counter_name IF EXISTS;
CREATE CONSTRAINT counter_key IF NOT EXISTS FOR (n:Counter) REQUIRE n.key IS UNIQUE;
CREATE INDEX counter_lookup IF NOT EXISTS FOR (n:Counter) ON (n.name);
CREATE CONSTRAINT lease_name IF NOT EXISTS FOR (n:Lease) REQUIRE n.name IS UNIQUE;
CREATE INDEX principal_tokenhash IF NOT EXISTS FOR (n:Principal) ON (n.tokenHash);
CREATE INDEX task_status IF NOT EXISTS FOR (n:Task) ON (n.status);
CREATE INDEX task_dedupkey IF NOT EXISTS FOR (n:Task) ON (n.dedupKey);
CREATE INDEX task_capability IF NOT EXISTS FOR (n:Task) ON (n.capability);
CREATE INDEX task_qk IF NOT EXISTS FOR (n:Task) ON (n.qk);
CREATE INDEX task_agent IF NOT EXISTS FOR (n:Task) ON (n.agentId);
CREATE INDEX fact_key IF NOT EXISTS FOR (n:Fact) ON (n.key);
// event_type serves metrics/summary's counts by type (tests/graph/test_event_type_index.py).
CREATE INDEX event_type IF NOT EXISTS FOR (n:Event) ON (n.type);
CREATE INDEX decision_traceid IF NOT EXISTS FOR (n:Decision) ON (n.traceId);
CREATE INDEX workflow_name IF NOT EXISTS FOR (n:Workflow) ON (n.name);
CREATE INDEX agent_status IF NOT EXISTS FOR (n:Agent) ON (n.status);
CREATE INDEX cost_entry_id IF NOT EXISTS FOR (n:CostEntry) ON (n.id);
CREATE INDEX cost_entry_charged IF NOT EXISTS FOR (n:CostEntry) ON (n.charged);
CREATE INDEX budget_exhausted IF NOT EXISTS FOR (n:Budget) ON (n.exhausted);
CREATE INDEX label_name IF NOT EXISTS FOR (n:Label) ON (n.name);
CREATE INDEX fact_entity IF NOT EXISTS FOR (n:Fact) ON (n.entityId);
CREATE CONSTRAINT step_id IF NOT EXISTS FOR (n:Step) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT cursor_name IF NOT EXISTS FOR (n:Cursor) REQUIRE n.name IS UNIQUE;
CREATE INDEX event_key IF NOT EXISTS FOR (n:Event) ON (n.key);
CREATE INDEX run_status IF NOT EXISTS FOR (n:Run) ON (n.status);
CREATE INDEX task_run IF NOT EXISTS FOR (n:Task) ON (n.runId);
CREATE INDEX trigger_workflow IF NOT EXISTS FOR (n:Trigger) ON (n.workflow);
CREATE INDEX decision_ended IF NOT EXISTS FOR (n:Decision) ON (n.endedAt);
CREATE INDEX task_ended IF NOT EXISTS FOR (n:Task) ON (n.endedAt);
CREATE CONSTRAINT archive_name IF NOT EXISTS FOR (n:Archive) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT legal_hold_id IF NOT EXISTS FOR (n:LegalHold) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT source_id IF NOT EXISTS FOR (n:Source) REQUIRE n.id IS UNIQUE;
CREATE INDEX fact_observed_at IF NOT EXISTS FOR (n:Fact) ON (n.observedAt);
CREATE INDEX run_ended_at IF NOT EXISTS FOR (n:Run) ON (n.endedAt);
CREATE INDEX run_workflow IF NOT EXISTS FOR (n:Run) ON (n.workflow);
CREATE INDEX proposal_status IF NOT EXISTS FOR (n:Proposal) ON (n.status);
// Search (cypher/search/): the embedding job finds its work by needsEmbedding, vectors are
// float[] in an HNSW index (cosine, queryNodes answers (1 + cosine similarity) / 2) of
// $embeddingDim dimensions (settings.embedding_dim, passed by the store), not quantized
// (5.26 quantizes by default: scores then drift, an identical vector scored 0.96). Full-text on
// `text` with the English analyzer (stemming and stop words, like FalkorDB's RediSearch).
// Term: texts per word (search/term_docs).
CREATE INDEX fact_needs_embedding IF NOT EXISTS FOR (n:Fact) ON (n.needsEmbedding);
CREATE INDEX entity_needs_embedding IF NOT EXISTS FOR (n:Entity) ON (n.needsEmbedding);
CREATE VECTOR INDEX fact_embedding IF NOT EXISTS FOR (n:Fact) ON n.embedding OPTIONS {indexConfig: {`vector.dimensions`: $embeddingDim, `vector.similarity_function`: 'cosine', `vector.quantization.enabled`: false}};
CREATE VECTOR INDEX entity_embedding IF NOT EXISTS FOR (n:Entity) ON n.embedding OPTIONS {indexConfig: {`vector.dimensions`: $embeddingDim, `vector.similarity_function`: 'cosine', `vector.quantization.enabled`: false}};
CREATE FULLTEXT INDEX fact_text IF NOT EXISTS FOR (n:Fact) ON EACH [n.text] OPTIONS {indexConfig: {`fulltext.analyzer`: 'english'}};
CREATE FULLTEXT INDEX entity_text IF NOT EXISTS FOR (n:Entity) ON EACH [n.text] OPTIONS {indexConfig: {`fulltext.analyzer`: 'english'}};
CREATE CONSTRAINT term_word IF NOT EXISTS FOR (n:Term) REQUIRE n.word IS UNIQUE;
