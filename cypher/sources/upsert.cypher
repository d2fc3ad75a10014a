// Sync, step 1 of 3, for a batch of a source's new or changed records ($rows: {id, kind,
// name, namespace, attrs (JSON), domain, domainName, partial, file, sourceLocation,
// kubernetesId, text}): each entity exists and holds this source's claim (SOURCED_FROM:
// status, file, and `lostTo` when a source of better precedence — a lower number, then the
// lower id — also claims it). The winning claim writes the entity's properties and its
// domain; a partial record (CODEOWNERS) only claims relations, never properties. A new or
// changed `text` (app.core.search.entity_text) is flagged needsEmbedding for the embedding
// job. A `group` is also a team and a `user` a human principal without a token. No events here: step 3 writes one per
// record with the claim's hash, so a sync cut short between the steps is simply redone.
MATCH (s:Source {id: coalesce($source, '')})
UNWIND $rows AS r
MERGE (e:Entity {id: r.id})
ON CREATE SET e.createdAt = $now, e.status = 'active', e.kind = r.kind, e.name = r.name,
              e.text = r.text, e.needsEmbedding = true
WITH s, e, r
OPTIONAL MATCH (e)-[w:SOURCED_FROM]->(o:Source)
WHERE o.id <> s.id AND w.status = 'active' AND NOT w.partial
  AND (o.precedence < s.precedence OR (o.precedence = s.precedence AND o.id < s.id))
WITH s, e, r, head(collect(o.id)) AS winner
MERGE (e)-[cl:SOURCED_FROM]->(s)
ON CREATE SET cl.since = $now
SET cl.status = 'active', cl.partial = r.partial, cl.file = r.file, cl.at = $now,
    cl.lostTo = CASE WHEN r.partial THEN null ELSE winner END
WITH s, e, r, winner
WHERE winner IS NULL AND NOT r.partial
SET e.needsEmbedding = CASE WHEN e.text = r.text THEN e.needsEmbedding ELSE true END
SET e.text = r.text, e.kind = r.kind, e.name = r.name, e.namespace = r.namespace,
    e.attrs = r.attrs, e.sourceLocation = r.sourceLocation, e.kubernetesId = r.kubernetesId,
    e.status = 'active', e.source = s.id, e.updatedAt = $now, e.retiredAt = null
WITH s, e, r
OPTIONAL MATCH (e)-[l:SOURCED_FROM]->(o2:Source)
WHERE o2.id <> s.id AND l.status = 'active' AND NOT l.partial AND l.lostTo IS NULL
SET l.lostTo = s.id
WITH DISTINCT e, r
FOREACH (_ IN CASE WHEN r.kind = 'group' THEN [1] ELSE [] END |
  MERGE (t:Team {id: r.id})
  ON CREATE SET t.createdAt = $now
  SET t.name = coalesce(r.title, r.name), t.source = $source)
FOREACH (_ IN CASE WHEN r.kind = 'user' THEN [1] ELSE [] END |
  MERGE (p:Principal {id: r.id})
  ON CREATE SET p.createdAt = $now, p.kind = 'human', p.roles = [], p.revoked = false,
                p.tokenHash = null, p.agentId = null, p.source = $source
  SET p.name = CASE WHEN p.source = $source THEN coalesce(r.title, r.name) ELSE p.name END)
MERGE (d:Domain {id: r.domain})
ON CREATE SET d.name = r.domainName, d.createdAt = $now
WITH e, d
OPTIONAL MATCH (e)-[old:IN_DOMAIN]->(x:Domain)
WHERE x.id <> d.id
DELETE old
WITH DISTINCT e, d
MERGE (e)-[:IN_DOMAIN]->(d)
RETURN count(DISTINCT e) AS written
