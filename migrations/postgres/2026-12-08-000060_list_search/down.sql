DROP FUNCTION samverkan_fold(TEXT);
