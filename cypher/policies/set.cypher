// Create or change a policy. Policies are versioned: the Policy node holds the current rules
// and each change adds a PolicyVersion (OF it) with the rules as set, plus a policy.set Event.
// Scope: 'agent' | 'team' | 'workflow' (APPLIES_TO that node) or 'global' (applies to all).
// Lists left null mean "no rule"; an empty allow list allows nothing. No row back: the
// target does not exist (nothing written).
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
OPTIONAL MATCH (ta:Agent {id: coalesce($targetId, '')})
WHERE $scope = 'agent'
OPTIONAL MATCH (tt:Team {id: coalesce($targetId, '')})
WHERE $scope = 'team'
OPTIONAL MATCH (tw:Workflow {id: coalesce($targetId, '')})
WHERE $scope = 'workflow'
WITH c, coalesce(ta, tt, tw) AS target
WHERE $scope = 'global' OR target IS NOT NULL
MERGE (p:Policy {id: $id})
ON CREATE SET p.version = 0, p.createdAt = $now
SET p.version = p.version + 1, p.name = $name, p.scope = $scope, p.targetId = $targetId,
    p.allowCapabilities = $allowCapabilities, p.denyCapabilities = $denyCapabilities,
    p.allowDomains = $allowDomains, p.denyDomains = $denyDomains,
    p.allowResources = $allowResources, p.denyResources = $denyResources,
    p.alwaysApprove = $alwaysApprove, p.autoApproveThreshold = $autoApproveThreshold,
    p.maxCostPerTask = $maxCostPerTask, p.maxConcurrent = $maxConcurrent,
    p.allowedHours = $allowedHours, p.thresholdActions = $thresholdActions,
    p.thresholdValues = $thresholdValues, p.approvers = $approvers, p.escalation = $escalation,
    p.approvalSlaMs = $approvalSlaMs, p.onExpiry = $onExpiry,
    p.updatedAt = $now, p.updatedBy = $actor
WITH c, p, target
OPTIONAL MATCH (p)-[old:APPLIES_TO]->()
DELETE old
WITH DISTINCT c, p, target
FOREACH (_ IN CASE WHEN target IS NULL THEN [] ELSE [1] END |
  CREATE (p)-[:APPLIES_TO]->(target))
CREATE (v:PolicyVersion {policyId: p.id, version: p.version, rules: $rules, at: $now,
                         by: $actor})
CREATE (v)-[:OF]->(p)
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'policy.set', at: $now, actor: $actor, subject: p.id,
                 payload: $rules})
CREATE (e)-[:ON]->(p)
RETURN properties(p) AS policy
