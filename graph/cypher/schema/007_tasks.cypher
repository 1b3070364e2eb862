// Citizens' correction requests: tasks for staff, one id each.
CREATE CONSTRAINT correction_task_id IF NOT EXISTS FOR (t:CorrectionRequest) REQUIRE t.task_id IS UNIQUE;
