// A run's decision trace: the run, its steps, every task and the decisions ON each task,
// with the agents and humans BY whom they were made and the facts they SAW.
// :param runId => 'run-…'   (the incident demo prints it)
MATCH (r:Run {id: $runId})
OPTIONAL MATCH p1 = (r)<-[:STEP_OF]-(:Step)-[:RAN]->(t:Task)
OPTIONAL MATCH p2 = (t)<-[:ON]-(d:Decision)-[:BY]->()
OPTIONAL MATCH p3 = (d)-[:SAW]->(:Fact)
OPTIONAL MATCH p4 = (r)<-[:IN]-(:Decision)
RETURN r, p1, p2, p3, p4
