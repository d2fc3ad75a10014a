// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block reads the caller's readable domains
// and cleared labels off its own node (readDomains / readLabels, kept by the statements that
// change memberships and grants); then each row is filtered by its label's readable clause
// (fact, entity, task, proposal; the generic one where labels mix), each the same text in
// every statement (tests/security/test_grant_clause.py checks it).
// whyDid: the nodes a walk reached (ids, or 'event:<seq>' for events), each with its label,
// name and time, and the Decision spans that acted on it (who, when, which facts they saw).
// As the caller may see it: nodes it may not read are left out with their decisions, and a
// decision's SAW names only facts it may read.
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
UNWIND $keys AS k
OPTIONAL MATCH (t:Task {id: k})
OPTIONAL MATCH (f:Fact {id: k})
OPTIONAL MATCH (p:Proposal {id: k})
OPTIONAL MATCH (r:Run {id: k})
OPTIONAL MATCH (s:Step {id: k})
OPTIONAL MATCH (m:Merge {id: k})
OPTIONAL MATCH (e:Event)
  WHERE k STARTS WITH 'event:' AND e.seq = toInteger(substring(k, 6))
WITH domains, cleared, k, coalesce(t, f, p, r, s, m, e) AS n
WHERE n IS NOT NULL
WITH domains, cleared, k, n, coalesce($all OR NOT any(lb IN labels(n) WHERE lb IN ['Fact', 'Task', 'Proposal', 'Entity'])
  OR ('Fact' IN labels(n) AND (n.domain IN domains AND (n.sensitivity IS NULL OR n.sensitivity IN cleared)))
  OR ('Task' IN labels(n) AND (n.agentId = $agentId OR n.submittedBy = $callerId
      OR all(y IN [(n)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id] WHERE y IN domains)))
  OR ('Proposal' IN labels(n) AND (n.agentId = $agentId
      OR size([(n)-[:ROUTED_TO|ESCALATED_TO]->(h:Principal {id: $callerId}) | h.id]) > 0
      OR all(y IN [(n)-[:FOR]->(:Task)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(pd:Domain) | pd.id]
             WHERE y IN domains)))
  OR ('Entity' IN labels(n) AND (all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains))), false) AS ok
WHERE ok
OPTIONAL MATCH (d:Decision)-[:ON|PRODUCED]->(n)
OPTIONAL MATCH (d)-[:SAW]->(sf:Fact)
WITH k, n, d,
     collect(CASE WHEN $all OR (sf.domain IN domains AND (sf.sensitivity IS NULL OR sf.sensitivity IN cleared))
                  THEN sf.id END) AS saw
RETURN k AS id, labels(n)[0] AS label,
       coalesce(n.stepId, n.kind, n.type, n.key, n.workflow, n.summary) AS name,
       coalesce(n.createdAt, n.observedAt, n.at, n.startedAt) AS at,
       collect(CASE WHEN d IS NULL THEN null
               ELSE {span: coalesce(d.spanId, d.id), name: d.name, on: k,
                     by: coalesce(d.agentId, d.principalId),
                     at: coalesce(d.startedAt, d.at), saw: saw} END) AS decisions
