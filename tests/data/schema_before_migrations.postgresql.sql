-- The tables kbot 0.1 created before schema migrations existed (postgresql), for the upgrade test.
CREATE TABLE access_grants (
	id SERIAL NOT NULL,
	platform VARCHAR(32) NOT NULL,
	workspace VARCHAR(128) NOT NULL,
	name VARCHAR(255) NOT NULL,
	approved_by VARCHAR(128) NOT NULL,
	approved_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (platform, workspace)
);
CREATE TABLE channel_scopes (
	id SERIAL NOT NULL,
	platform VARCHAR(32) NOT NULL,
	workspace VARCHAR(128) NOT NULL,
	channel VARCHAR(128) NOT NULL,
	use_global BOOLEAN NOT NULL,
	use_workspace BOOLEAN NOT NULL,
	preset VARCHAR(16),
	visibility VARCHAR(16),
	changed_by VARCHAR(128),
	changed_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (platform, workspace, channel)
);
CREATE TABLE deliveries (
	id SERIAL NOT NULL,
	platform VARCHAR(32) NOT NULL,
	event_key VARCHAR(255) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (platform, event_key)
);
CREATE INDEX ix_deliveries_created_at ON deliveries (created_at);
CREATE TABLE feedback (
	id SERIAL NOT NULL,
	reply_id VARCHAR(32) NOT NULL,
	"user" VARCHAR(128) NOT NULL,
	value INTEGER NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (reply_id, "user")
);
CREATE INDEX ix_feedback_reply_id ON feedback (reply_id);
CREATE TABLE gaps (
	id SERIAL NOT NULL,
	platform VARCHAR(32) NOT NULL,
	workspace VARCHAR(128) NOT NULL,
	channel VARCHAR(128) NOT NULL,
	reply_id VARCHAR(32),
	question TEXT NOT NULL,
	nothing_found BOOLEAN NOT NULL,
	weak BOOLEAN NOT NULL,
	thumbs_down BOOLEAN NOT NULL,
	best_similarity DOUBLE PRECISION,
	sources JSON NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (reply_id)
);
CREATE INDEX ix_gaps_created_at ON gaps (created_at);
CREATE TABLE jobs (
	id SERIAL NOT NULL,
	kind VARCHAR(16) NOT NULL,
	source VARCHAR(1024) NOT NULL,
	scope VARCHAR(255) NOT NULL,
	uploader VARCHAR(128),
	location TEXT NOT NULL,
	target JSON NOT NULL,
	state VARCHAR(16) NOT NULL,
	attempts INTEGER NOT NULL,
	stage VARCHAR(32) NOT NULL,
	done INTEGER NOT NULL,
	total INTEGER NOT NULL,
	chunks INTEGER NOT NULL,
	pages INTEGER NOT NULL,
	error TEXT,
	warnings TEXT,
	notified BOOLEAN NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	started_at TIMESTAMP WITH TIME ZONE,
	heartbeat_at TIMESTAMP WITH TIME ZONE,
	finished_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id)
);
CREATE INDEX ix_jobs_state ON jobs (state);
CREATE TABLE pairing_requests (
	id SERIAL NOT NULL,
	code VARCHAR(16) NOT NULL,
	platform VARCHAR(32) NOT NULL,
	workspace VARCHAR(128) NOT NULL,
	name VARCHAR(255) NOT NULL,
	requested_by VARCHAR(128) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	notified_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id),
	UNIQUE (platform, workspace),
	UNIQUE (code)
);
CREATE TABLE rate_counters (
	id SERIAL NOT NULL,
	key VARCHAR(255) NOT NULL,
	window_start INTEGER NOT NULL,
	count INTEGER NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (key, window_start)
);
CREATE INDEX ix_rate_counters_window_start ON rate_counters (window_start);
CREATE TABLE threads (
	id SERIAL NOT NULL,
	platform VARCHAR(32) NOT NULL,
	workspace VARCHAR(128) NOT NULL,
	channel VARCHAR(128) NOT NULL,
	thread VARCHAR(255) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (platform, workspace, channel, thread)
);
CREATE TABLE turns (
	id SERIAL NOT NULL,
	thread_id INTEGER NOT NULL,
	question TEXT NOT NULL,
	query TEXT NOT NULL,
	answer TEXT NOT NULL,
	sources JSON NOT NULL,
	mode VARCHAR(32) NOT NULL,
	author VARCHAR(128) NOT NULL,
	reply_id VARCHAR(32),
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(thread_id) REFERENCES threads (id) ON DELETE CASCADE
);
CREATE INDEX ix_turns_thread_id ON turns (thread_id);
CREATE INDEX ix_turns_reply_id ON turns (reply_id);
