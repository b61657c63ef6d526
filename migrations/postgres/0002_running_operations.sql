-- "What is running?" (List with `done = false`) reads these instead of
-- passing over every finished operation: their size is the number of
-- running operations, whatever the table holds. The queries repeat
-- `NOT done` so the planner picks them.
CREATE INDEX operations_running_location
    ON operations (project, location, create_time DESC, name)
    WHERE NOT done;
CREATE INDEX operations_running_project
    ON operations (project, create_time DESC, name)
    WHERE NOT done;
