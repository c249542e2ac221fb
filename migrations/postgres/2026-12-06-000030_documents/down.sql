DROP TABLE document_blobs;
DROP TABLE document_links;
DROP TABLE documents;
