// One workflow definition alone (the engine's read when starting a run): the latest version
// of $name, or exactly $version. workflows/get adds what the API shows (triggers, runs).
MATCH (w:Workflow {name: coalesce($name, '')})
WHERE ($version IS NULL AND w.latest = true) OR w.version = $version
RETURN properties(w) AS workflow
