DROP TABLE data_users;
