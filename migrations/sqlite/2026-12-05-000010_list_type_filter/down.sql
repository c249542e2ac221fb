DROP INDEX collaborations_type_list;
ALTER TABLE collaborations DROP COLUMN collaboration_type;
