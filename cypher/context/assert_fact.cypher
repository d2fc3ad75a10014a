// An agent asserts a fact about an entity it may read. The fact is ABOUT the entity,
// ASSERTED_BY the agent, DERIVED_FROM the facts (it may read) and tasks it names. It
// SUPERSEDES the current facts on the same (entity, key) *that the writer may read*, which
// stay as history; one that came from another agent with another value is also
// CONTRADICTED (fact.contradicted). A current fact the writer may not read (another domain,
// or a sensitivity label its teams are not cleared for) is left alone, still current for
// its readers: a write neither buries nor reveals what its writer cannot see, and the
// answer (superseded, contradicted) names only readable facts.
// The fact's $text (app.core.search.fact_text) is what search indexes; needsEmbedding flags
// it for the embedding job (search/pending), and a superseded fact, history that search
// never returns, loses the flag. Reads return the fact without its vector.
// The writer's grants and the recipients' are their readable domains and labels
// (readDomains / readLabels, kept on each Agent by the statements that change them; README
// "Who may read what"). The Event names its recipients, computed here with the same grants
// as every read: agents with an active task touching the entity or one within 2 relations,
// who may read it.
// Its policy (see policies/refresh) must allow the entity's domain.
// No row back: unknown agent/entity, no read grant, policy, or an unknown derivedFrom id.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (a:Agent {id: coalesce($agentId, '')})
MATCH (e:Entity {id: coalesce($entityId, '')})-[:IN_DOMAIN]->(d:Domain)
WHERE d.id IN coalesce(a.readDomains, [])
  AND NOT d.id IN coalesce(a.pDenyDomains, [])
  AND (a.pAllowDomains IS NULL OR d.id IN a.pAllowDomains)
WITH c, a, d, e
LIMIT 1
WITH c, a, d, e, coalesce(a.readDomains, []) AS domains, coalesce(a.readLabels, []) AS cleared
OPTIONAL MATCH (sf:Fact)
WHERE sf.id IN $derivedFrom
WITH c, a, d, e, domains, cleared, collect(sf) AS found
WITH c, a, d, e, domains, cleared,
     [x IN found WHERE x.domain IN domains
      AND (x.sensitivity IS NULL OR x.sensitivity IN cleared)] AS facts
OPTIONAL MATCH (st:Task)
WHERE st.id IN $derivedFrom
WITH c, a, d, e, domains, cleared, facts, collect(st) AS tasks
WITH c, a, d, e, domains, cleared, facts + tasks AS sources
WHERE size(sources) = size($derivedFrom)
OPTIONAL MATCH (old:Fact {current: true})-[:ABOUT]->(e)
WHERE old.key = $key
WITH c, a, d, e, domains, cleared, sources, old
ORDER BY old.observedAt DESC
WITH c, a, d, e, domains, cleared, sources, collect(old) AS current
WITH c, a, d, e, sources,
     [x IN current WHERE x.domain IN domains
      AND (x.sensitivity IS NULL OR x.sensitivity IN cleared)] AS olds
CREATE (f:Fact {id: $id, key: $key, value: $value, confidence: $confidence,
                observedAt: $now, validTo: $validTo, current: true,
                sensitivity: $sensitivity, agentId: a.id, entityId: e.id, domain: d.id,
                text: $text, needsEmbedding: true})
CREATE (f)-[:ABOUT]->(e)
CREATE (f)-[:ASSERTED_BY]->(a)
FOREACH (s IN sources | CREATE (f)-[:DERIVED_FROM]->(s))
WITH c, f, e, d, olds,
     [o IN olds WHERE o.agentId <> $agentId AND o.value <> $value] AS clashes
FOREACH (o IN olds |
  SET o.current = false, o.needsEmbedding = null
  CREATE (f)-[:SUPERSEDES {at: $now}]->(o))
FOREACH (o IN clashes | CREATE (f)-[:CONTRADICTS {at: $now}]->(o))
WITH c, f, e, d, head(olds) AS old, head(clashes) AS clashed, size(clashes) > 0 AS clash
OPTIONAL MATCH (e)-[:DEPENDS_ON|PART_OF|OWNED_BY|RELATES_TO*0..2]-(:Entity)
               <-[:TOUCHES]-(t:Task)
WHERE t.status IN ['assigned', 'running', 'awaiting_approval']
WITH c, f, d, old, clashed, clash, collect(DISTINCT t.agentId) AS working
OPTIONAL MATCH (r:Agent)
WHERE r.id IN working
WITH c, f, old, clashed, clash,
     collect(DISTINCT CASE WHEN d.id IN coalesce(r.readDomains, [])
                            AND (f.sensitivity IS NULL
                                 OR f.sensitivity IN coalesce(r.readLabels, []))
                       THEN r.id END) AS recipients
WITH c, f, old, clashed, clash, recipients, c.seq AS base
SET c.seq = base + CASE WHEN clash THEN 2 ELSE 1 END
CREATE (ev:Event {seq: base + 1, type: 'fact.asserted', at: $now, actor: $actor,
                  agentId: $agentId,
                  subject: f.id, payload: $payload, recipients: recipients})
CREATE (ev)-[:ON]->(f)
FOREACH (_ IN CASE WHEN clash THEN [1] ELSE [] END |
  CREATE (cv:Event {seq: base + 2, type: 'fact.contradicted', at: $now, actor: $actor,
                    agentId: $agentId,
                    subject: f.id, recipients: recipients,
                    payload: '{"factId":"' + f.id + '","contradicts":"' + clashed.id +
                             '","key":"' + f.key + '"}'})
  CREATE (cv)-[:ON]->(f))
WITH f, old, clash, recipients
OPTIONAL MATCH (f)-[:DERIVED_FROM]->(st:Task)
OPTIONAL MATCH (st)-[:PART_OF]->(inRun:Run)
OPTIONAL MATCH (a:Agent {id: f.agentId})
WITH f, old, clash, recipients, a, collect(st)[0] AS st, collect(inRun)[0] AS inRun
CREATE (d:Decision {id: f.id + '/assert', spanId: f.id + '/assert', traceId: st.traceId,
                    parentSpanId: st.spanId, name: 'fact.assert ' + f.key, startedAt: $now,
                    endedAt: $now, taskId: st.id, runId: st.runId, agentId: a.id})
CREATE (d)-[:BY]->(a)
CREATE (d)-[:PRODUCED]->(f)
FOREACH (x IN CASE WHEN st IS NULL THEN [] ELSE [st] END | CREATE (d)-[:ON]->(x))
FOREACH (x IN CASE WHEN inRun IS NULL THEN [] ELSE [inRun] END | CREATE (d)-[:IN]->(x))
RETURN f {.id, .key, .value, .confidence, .observedAt, .validTo, .current, .sensitivity,
          .agentId, .entityId, .domain} AS fact,
       old.id AS superseded, clash AS contradicted, recipients
