// What the last sync of a file source read (the files and a hash of their bytes), what it
// refused, and how many entities it holds: a re-sync whose files hash the same skips parsing
// and answers from this. No row: unknown source.
MATCH (s:Source {id: coalesce($source, '')})
OPTIONAL MATCH (s)<-[cl:SOURCED_FROM]-(:Entity)
WHERE cl.status = 'active'
RETURN s.inputHash AS inputHash, s.inputFiles AS inputFiles, s.rev AS rev,
       s.rejected AS rejected, s.skipped AS skipped, count(cl) AS claimed
