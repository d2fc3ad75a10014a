// Register every property name Baton's statements use, in one logged write at start-up.
// Why: FalkorDB (4.16) numbers a property name when it first plans a write that mentions it,
// even if that write then changes nothing, and a write that changes nothing is not written
// to the append-only file. Replaying the file then numbers names differently from the
// server that wrote it, and later logged effects land on the wrong property (a Run without
// its workflowId, a crash in properties()). With every name registered here first, no later
// statement can add one unlogged. The node is created and deleted in this same statement.
CREATE (k)
SET k = $keys
DELETE k
