// Materialise each agent's effective policy onto the Agent ($agentIds: null = every agent),
// so routing and every fenced statement enforce it inside their own Cypher:
// deny lists are the union over every policy that applies (deny wins); an allow list comes
// from the most specific level that has one (agent > team > global), the union within that
// level; scalar limits come from the most specific policy that sets them. The agent's own
// maxConcurrency (declaredMax) is lowered to a policy's maxConcurrent. Derived state: the
// policy.set / agent.registered events that caused it are the audit record.
// Serialise with every other writer first (Neo4j: the counter's write lock before any
// node this statement touches, so lock order is the same everywhere and cannot deadlock).
MATCH (lk:Counter {name: 'event'})
SET lk._lk = timestamp()
WITH lk
MATCH (a:Agent)
WHERE $agentIds IS NULL OR a.id IN $agentIds
OPTIONAL MATCH (pa:Policy)-[:APPLIES_TO]->(a)
WITH a, collect(pa) AS pas
OPTIONAL MATCH (a)-[:MEMBER_OF]->(:Team)<-[:APPLIES_TO]-(pt:Policy)
WITH a, pas, collect(pt) AS pts
OPTIONAL MATCH (pg:Policy {scope: 'global'})
WITH a, pas, pts, collect(pg) AS pgs
WITH a, pas, pts, pgs, pas + pts + pgs AS ps,
     CASE WHEN any(p IN pas WHERE p.allowCapabilities IS NOT NULL) THEN pas
          WHEN any(p IN pts WHERE p.allowCapabilities IS NOT NULL) THEN pts
          WHEN any(p IN pgs WHERE p.allowCapabilities IS NOT NULL) THEN pgs END AS capLevel,
     CASE WHEN any(p IN pas WHERE p.allowDomains IS NOT NULL) THEN pas
          WHEN any(p IN pts WHERE p.allowDomains IS NOT NULL) THEN pts
          WHEN any(p IN pgs WHERE p.allowDomains IS NOT NULL) THEN pgs END AS domLevel,
     CASE WHEN any(p IN pas WHERE p.allowResources IS NOT NULL) THEN pas
          WHEN any(p IN pts WHERE p.allowResources IS NOT NULL) THEN pts
          WHEN any(p IN pgs WHERE p.allowResources IS NOT NULL) THEN pgs END AS resLevel
WITH a, ps, capLevel, domLevel, resLevel,
     coalesce(a.declaredMax, a.maxConcurrency) AS declared,
     head([p IN ps WHERE p.maxConcurrent IS NOT NULL | p.maxConcurrent]) AS pmax
SET a.declaredMax = declared, a.pMaxConcurrent = pmax,
    a.maxConcurrency = CASE WHEN pmax IS NOT NULL AND pmax < declared THEN pmax ELSE declared END,
    a.pDenyCaps = reduce(s = [], p IN ps | s + coalesce(p.denyCapabilities, [])),
    a.pAllowCaps = CASE WHEN capLevel IS NULL THEN null
                        ELSE reduce(s = [], p IN capLevel | s + coalesce(p.allowCapabilities, []))
                   END,
    a.pDenyDomains = reduce(s = [], p IN ps | s + coalesce(p.denyDomains, [])),
    a.pAllowDomains = CASE WHEN domLevel IS NULL THEN null
                           ELSE reduce(s = [], p IN domLevel | s + coalesce(p.allowDomains, []))
                      END,
    a.pDenyResources = reduce(s = [], p IN ps | s + coalesce(p.denyResources, [])),
    a.pAllowResources = CASE WHEN resLevel IS NULL THEN null
                             ELSE reduce(s = [], p IN resLevel |
                                         s + coalesce(p.allowResources, [])) END,
    a.pAlwaysApprove = reduce(s = [], p IN ps | s + coalesce(p.alwaysApprove, [])),
    a.pThreshold = head([p IN ps WHERE p.autoApproveThreshold IS NOT NULL |
                         p.autoApproveThreshold]),
    a.pMaxCost = head([p IN ps WHERE p.maxCostPerTask IS NOT NULL | p.maxCostPerTask]),
    a.pHours = head([p IN ps WHERE p.allowedHours IS NOT NULL | p.allowedHours]),
    a.policyIds = [p IN ps | p.id]
RETURN count(a) AS refreshed
