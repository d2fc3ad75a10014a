// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block reads the caller's readable domains
// and cleared labels off its own node (readDomains / readLabels, kept by the statements that
// change memberships and grants); then each row is filtered by its label's readable clause
// (fact, entity, task, proposal; the generic one where labels mix), each the same text in
// every statement (tests/security/test_grant_clause.py checks it).
// Search by meaning: the $k nearest facts and the $k nearest entities to $vector (cosine),
// one row per label: `seen` (what the index found, readable or not: the caller doubles $k
// while too few are readable and the index still finds more) and `hits`, the readable
// current ones (facts not superseded nor past validTo, entities not retired), optionally
// only $kinds (entity kinds; fact key prefixes), each with its cosine similarity.
// Neo4j's queryNodes answers (1 + cosine similarity) / 2: similarity = 2 * score - 1.
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
CALL db.index.vector.queryNodes('fact_embedding', $k, $vector) YIELD node, score
WITH domains, cleared, node AS n, 2 * score - 1 AS similarity
WITH n, similarity, coalesce($all OR (n.domain IN domains AND (n.sensitivity IS NULL OR n.sensitivity IN cleared)), false) AS ok
WITH count(*) AS seen,
     collect(CASE WHEN ok AND n.current AND (n.validTo IS NULL OR n.validTo > $now)
                       AND ($kinds IS NULL OR any(kp IN $kinds WHERE n.key STARTS WITH kp))
                  THEN {label: 'fact', id: n.id, key: n.key, value: n.value, entityId: n.entityId,
                        domain: n.domain, confidence: n.confidence, observedAt: n.observedAt,
                        similarity: similarity} END) AS hits
RETURN 'fact' AS label, seen, hits
UNION ALL
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
CALL db.index.vector.queryNodes('entity_embedding', $k, $vector) YIELD node, score
WITH domains, cleared, node AS n, 2 * score - 1 AS similarity
WITH n, similarity, coalesce($all OR (all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains)), false) AS ok
WITH count(*) AS seen,
     collect(CASE WHEN ok AND coalesce(n.status, 'active') <> 'retired'
                       AND ($kinds IS NULL OR n.kind IN $kinds)
                  THEN {label: 'entity', id: n.id, name: n.name, kind: n.kind,
                        domain: head([(n)-[:IN_DOMAIN]->(hd:Domain) | hd.id]), similarity: similarity} END) AS hits
RETURN 'entity' AS label, seen, hits
