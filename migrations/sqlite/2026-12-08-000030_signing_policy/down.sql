DROP TABLE signing_party_rules;
DROP TABLE signing_policies;
