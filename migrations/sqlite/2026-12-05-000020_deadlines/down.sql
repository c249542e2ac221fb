DROP INDEX deadlines_open_reminder;
DROP TABLE deadlines;
