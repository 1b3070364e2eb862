// One-time codes of self-registration and password reset, and citizens' flags on accesses to their record.
CREATE CONSTRAINT challenge_id IF NOT EXISTS FOR (c:Challenge) REQUIRE c.id IS UNIQUE;
CREATE INDEX challenge_id_hash IF NOT EXISTS FOR (c:Challenge) ON (c.id_hash);
CREATE CONSTRAINT access_flag_id IF NOT EXISTS FOR (f:AccessFlag) REQUIRE f.flag_id IS UNIQUE;
CREATE INDEX access_flag_status IF NOT EXISTS FOR (f:AccessFlag) ON (f.status);
