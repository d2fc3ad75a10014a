// One workflow definition: the latest version of $name, or exactly $version.
MATCH (w:Workflow {name: $name})
WHERE ($version IS NULL AND w.latest = true) OR w.version = $version
RETURN properties(w) AS workflow
