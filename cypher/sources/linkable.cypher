// Components a CODEOWNERS or Kubernetes source links to: their repository location
// (`backstage.io/source-location`) and Kubernetes id (`backstage.io/kubernetes-id`), and the
// teams (Groups) that may own them. Only active entities.
OPTIONAL MATCH (e:Entity)
WHERE e.kind = 'component' AND e.status = 'active'
  AND (e.sourceLocation IS NOT NULL OR e.kubernetesId IS NOT NULL)
WITH collect({id: e.id, sourceLocation: e.sourceLocation, kubernetesId: e.kubernetesId}) AS comps
OPTIONAL MATCH (g:Entity)
WHERE g.kind = 'group' AND g.status = 'active'
RETURN comps AS components, collect(g.id) AS groups
