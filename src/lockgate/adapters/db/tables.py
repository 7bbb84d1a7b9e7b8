"""The schema, in SQLAlchemy Core. Alembic migrations under `migrations/` create it.

Times are BigInteger microseconds since the epoch (UTC): one representation on
SQLite and PostgreSQL, sortable and exact.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(255), nullable=False, unique=True),
    Column("full_name", String(255)),
    Column("email", String(255), index=True),
    Column("http_password_hash", String(255)),
    Column("inactive", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uuid", String(64), nullable=False, unique=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("description", Text),
    Column("owner_uuid", String(64)),
    Column("visible_to_all", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id"), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
)

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("parent", String(255)),
    Column("description", Text),
    Column("state", String(16), nullable=False, default="ACTIVE"),
    Column("submit_type", String(32), nullable=False, default="MERGE_IF_NECESSARY"),
    Column("created_at", BigInteger, nullable=False),
)

changes = Table(
    "changes",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=True),
    Column("project", String(255), nullable=False),
    Column("branch", String(255), nullable=False),
    Column("change_key", String(41), nullable=False),
    Column("owner_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("subject", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("topic", String(255)),
    Column("work_in_progress", Boolean, nullable=False, default=False),
    Column("private", Boolean, nullable=False, default=False),
    Column("current_patch_set", Integer, nullable=False),
    Column("insertions", Integer, nullable=False, default=0),
    Column("deletions", Integer, nullable=False, default=0),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("submitted_at", BigInteger),
    Column("submitter_id", Integer, ForeignKey("accounts.id")),
    Index("ix_changes_project_status_updated", "project", "status", "updated_at"),
    # A project's changes of any status, newest first, so that a page of
    # `project:P label:...` stops early instead of sorting the whole project.
    Index("ix_changes_project_updated", "project", "updated_at", "number"),
    Index("ix_changes_status_updated", "status", "updated_at"),
    Index("ix_changes_owner_updated", "owner_id", "updated_at"),
    Index("ix_changes_change_key", "change_key"),
    Index("ix_changes_updated", "updated_at"),
)

patch_sets = Table(
    "patch_sets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("change_number", Integer, ForeignKey("changes.number"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("commit_sha", String(64), nullable=False),
    Column("tree_sha", String(64), nullable=False),
    Column("parents", Text, nullable=False),  # space separated shas
    Column("uploader_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("author_name", String(255), nullable=False),
    Column("author_email", String(255), nullable=False),
    Column("author_time", BigInteger, nullable=False),
    Column("author_tz", Integer, nullable=False),
    Column("committer_name", String(255), nullable=False),
    Column("committer_email", String(255), nullable=False),
    Column("committer_time", BigInteger, nullable=False),
    Column("committer_tz", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("kind", String(32), nullable=False, default="REWORK"),
    Column("description", Text),
    UniqueConstraint("change_number", "number"),
    Index("ix_patch_sets_commit_sha", "commit_sha"),
    # The patch sets whose parent is a commit: a change's git children, which
    # the gate enqueues behind it. Nearly every commit has one parent, so the
    # column equals that parent's sha.
    Index("ix_patch_sets_parents", "parents"),
)

patch_set_files = Table(
    "patch_set_files",
    metadata,
    Column("patch_set_id", Integer, ForeignKey("patch_sets.id"), primary_key=True),
    Column("path", Text, primary_key=True),
    Column("status", String(1), nullable=False),
    Column("old_path", Text),
    Column("lines_inserted", Integer, nullable=False, default=0),
    Column("lines_deleted", Integer, nullable=False, default=0),
    Column("size", BigInteger, nullable=False, default=0),
    Column("size_delta", BigInteger, nullable=False, default=0),
    Column("binary", Boolean, nullable=False, default=False),
)

change_messages = Table(
    "change_messages",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("change_number", Integer, ForeignKey("changes.number"), nullable=False, index=True),
    Column("author_id", Integer, ForeignKey("accounts.id")),
    Column("created_at", BigInteger, nullable=False),
    Column("message", Text, nullable=False),
    Column("tag", String(255)),
    Column("patch_set", Integer),
)

change_hashtags = Table(
    "change_hashtags",
    metadata,
    Column("change_number", Integer, ForeignKey("changes.number"), primary_key=True),
    Column("hashtag", String(255), primary_key=True),
    Index("ix_change_hashtags_hashtag", "hashtag"),
)

change_reviewers = Table(
    "change_reviewers",
    metadata,
    Column("change_number", Integer, ForeignKey("changes.number"), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
    Column("state", String(16), nullable=False),  # REVIEWER or CC
    Index("ix_change_reviewers_account", "account_id"),
)

# The durable, ordered event log: every review fact appends one row in the
# transaction that records the fact; consumers read by sequence number.
events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("type", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("project", String(255)),
    Column("change_number", Integer),
    Column("payload", Text, nullable=False),  # the stream-events JSON
)

# --- review part 2: votes, comments, access, labels, footers, deliveries ---

# One row per (patch set, voter, label): the voter's current vote on that patch
# set. A vote of 0 is kept only while it replaces an earlier one (the event's
# oldValue needs it); a change's votes are those of its current patch set.
approvals = Table(
    "approvals",
    metadata,
    Column("change_number", Integer, ForeignKey("changes.number"), primary_key=True),
    Column("patch_set", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
    Column("label", String(255), primary_key=True),
    Column("value", Integer, nullable=False),
    Column("granted_at", BigInteger, nullable=False),
    Column("tag", String(255)),
    Column("post_submit", Boolean, nullable=False, default=False),
    Column("copied", Boolean, nullable=False, default=False),
    # label: queries look up (label, value) and join back to the change.
    Index("ix_approvals_label_value", "label", "value", "change_number"),
    Index("ix_approvals_account", "account_id"),
)

# Published inline comments.
comments = Table(
    "comments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("change_number", Integer, ForeignKey("changes.number"), nullable=False),
    Column("patch_set", Integer, nullable=False),
    Column("path", Text, nullable=False),
    Column("side", String(16), nullable=False, default="REVISION"),  # REVISION or PARENT
    Column("parent_number", Integer),  # PARENT side of a merge: which parent
    Column("line", Integer),
    Column("start_line", Integer),
    Column("start_character", Integer),
    Column("end_line", Integer),
    Column("end_character", Integer),
    Column("in_reply_to", String(64)),
    Column("message", Text, nullable=False),
    Column("author_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("unresolved", Boolean, nullable=False, default=False),
    Column("change_message_id", String(64)),
    Column("tag", String(255)),
    Index("ix_comments_change", "change_number", "patch_set"),
)

# Draft inline comments: seen only by their author until a review publishes
# them, when they move to `comments` under the same id.
draft_comments = Table(
    "draft_comments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("change_number", Integer, ForeignKey("changes.number"), nullable=False),
    Column("patch_set", Integer, nullable=False),
    Column("author_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("path", Text, nullable=False),
    Column("side", String(16), nullable=False, default="REVISION"),
    Column("parent_number", Integer),
    Column("line", Integer),
    Column("start_line", Integer),
    Column("start_character", Integer),
    Column("end_line", Integer),
    Column("end_character", Integer),
    Column("in_reply_to", String(64)),
    Column("message", Text, nullable=False),
    Column("unresolved", Boolean, nullable=False, default=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_draft_comments_change_number_author_id", "change_number", "author_id"),
)

# Access sections of project.config, one row per rule. A permission marked
# exclusive with no rule is kept as a row with no group.
access_rules = Table(
    "access_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project", String(255), nullable=False),
    Column("ref_pattern", String(1024), nullable=False),
    Column("permission", String(255), nullable=False),
    Column("exclusive", Boolean, nullable=False, default=False),
    Column("group_uuid", String(64)),
    Column("action", String(16), nullable=False, default="ALLOW"),
    Column("min_value", Integer),
    Column("max_value", Integer),
    Column("force", Boolean, nullable=False, default=False),
    Index("ix_access_rules_project", "project"),
)

# Label types a project defines (review categories); children inherit their
# parents' up to All-Projects. `definition` is the label's JSON.
label_types = Table(
    "label_types",
    metadata,
    Column("project", String(255), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
    Column("definition", Text, nullable=False),
)

# Footers later issues act on (Closes-Bug, Partial-Bug, Related-Bug,
# Depends-On), as written in each patch set's commit message.
patch_set_footers = Table(
    "patch_set_footers",
    metadata,
    Column("change_number", Integer, ForeignKey("changes.number"), primary_key=True),
    Column("patch_set", Integer, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("key", String(64), nullable=False),
    Column("value", Text, nullable=False),
    Index("ix_patch_set_footers_key", "key"),
)

# How far each webhook has delivered the event log, so that a restart resumes
# where it stopped: an event is delivered once it is below the cursor.
webhook_cursors = Table(
    "webhook_cursors",
    metadata,
    Column("webhook", String(255), primary_key=True),
    Column("delivered_seq", Integer, nullable=False, default=0),
)

# Every attempt to deliver an event to a webhook, for the admin's delivery log.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("webhook", String(255), nullable=False),
    Column("event_seq", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("attempted_at", BigInteger, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("succeeded", Boolean, nullable=False, default=False),
    Column("duration_ms", Integer),
    Index("ix_webhook_deliveries_webhook", "webhook", "id"),
)

# --- the gating scheduler -----------------------------------------------------

# How far the scheduler has consumed the event log: moved in the transaction
# that saves the state the consumed events produced, so each event counts once.
gate_cursor = Table(
    "gate_cursor",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("seq", Integer, nullable=False, default=0),
)

# Each tenant's gating state (pipelines, queues, items, build sets, builds,
# semaphores, counters), as the pure core serializes it.
gate_state = Table(
    "gate_state",
    metadata,
    Column("tenant", String(255), primary_key=True),
    Column("state", Text, nullable=False),
    Column("updated", BigInteger, nullable=False),
)

# The history behind /builds and /buildsets: one row per build set an item ran
# (a gate reset starts a new one), and one per build, written as they happen.
gate_buildsets = Table(
    "gate_buildsets",
    metadata,
    Column("uuid", String(64), primary_key=True),
    Column("tenant", String(255), nullable=False),
    Column("pipeline", String(255), nullable=False),
    Column("project", String(255), nullable=False),
    Column("branch", String(255), nullable=False),
    Column("ref", String(1024), nullable=False),
    Column("change", Integer, nullable=True),
    Column("patchset", Integer, nullable=True),
    Column("oldrev", String(64), nullable=True),
    Column("newrev", String(64), nullable=True),
    Column("result", String(32), nullable=True),
    Column("message", Text, nullable=True),
    Column("created", BigInteger, nullable=False),
    Column("updated", BigInteger, nullable=False),
    Index("ix_gate_buildsets_tenant_created", "tenant", "created"),
    Index("ix_gate_buildsets_change", "change", "patchset"),
)

gate_builds = Table(
    "gate_builds",
    metadata,
    Column("uuid", String(64), primary_key=True),
    Column("buildset", String(64), nullable=False),
    Column("tenant", String(255), nullable=False),
    Column("pipeline", String(255), nullable=False),
    Column("job", String(255), nullable=False),
    Column("project", String(255), nullable=False),
    Column("branch", String(255), nullable=False),
    Column("ref", String(1024), nullable=False),
    Column("change", Integer, nullable=True),
    Column("patchset", Integer, nullable=True),
    Column("changes", Text, nullable=False),  # the speculative state, "1,1 2,1"
    Column("voting", Boolean, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("result", String(32), nullable=True),
    Column("log_url", String(2048), nullable=True),
    Column("error", Text, nullable=True),
    Column("queued", BigInteger, nullable=False),
    Column("started", BigInteger, nullable=True),
    Column("ended", BigInteger, nullable=True),
    # The build's folder in the log store (0006), set when the executor starts it.
    Column("log_path", String(1024), nullable=True),
    Index("ix_gate_builds_tenant_queued", "tenant", "queued"),
    Index("ix_gate_builds_buildset", "buildset"),
    Index("ix_gate_builds_job", "tenant", "job"),
    # Which build a served log file belongs to, by its folder (0011).
    Index("ix_gate_builds_log_path", "log_path"),
)

# What builds returned in zuul_return's zuul.artifacts (0007), in order; `url`
# already absolute (a relative one was joined to the build's log URL).
gate_build_artifacts = Table(
    "gate_build_artifacts",
    metadata,
    Column("build", String(64), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("url", Text, nullable=False),
    Column("meta", Text, nullable=False),  # the artifact's metadata, a JSON object
)

# --- the gating scheduler's port to the review server ---

# Reports the CI account has carried out, by the gating core's report id, so
# that a report issued again after a crash is not posted twice. The row is
# written in the transaction that posts the review; `merged` and `error` once
# a submitting report's submit has been tried (NULL: not tried yet, or the
# report does not submit).
gate_reports = Table(
    "gate_reports",
    metadata,
    Column("report_id", String(255), primary_key=True),
    Column("done_at", BigInteger, nullable=False),
    Column("merged", Boolean),
    Column("error", Text),
)

# --- test nodes ------------------------------------------------------------------

# One row per node a provider made or is making. State changes compare and set
# the old state, so two launchers never take one node; `external_id` is the
# provider's own name for what it made, saved as soon as it exists so that a
# restarted launcher can finish or undo the launch.
nodes = Table(
    "nodes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("label", String(255), nullable=False),
    Column("provider", String(255), nullable=False),
    Column("pool", String(255), nullable=False),
    Column("state", String(32), nullable=False),
    Column("external_id", String(1024), nullable=True),
    Column("connection", Text, nullable=False),  # JSON host vars
    Column("request", String(64), nullable=True),
    Column("launch_attempts", Integer, nullable=False, default=0),
    Column("hold_autohold", String(64), nullable=True),
    Column("hold_reason", Text, nullable=False, default=""),
    Column("hold_expires", BigInteger, nullable=True),
    Column("created", BigInteger, nullable=False),
    Column("state_time", BigInteger, nullable=False),
    Index("ix_nodes_state", "state"),
    Index("ix_nodes_request", "request"),
)

node_requests = Table(
    "node_requests",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("labels", Text, nullable=False),  # JSON list
    Column("build", String(255), nullable=False),
    Column("precedence", Integer, nullable=False),
    Column("relative_priority", Integer, nullable=False),
    Column("state", String(32), nullable=False),
    Column("nodes", Text, nullable=False),  # JSON list of node ids, in label order
    Column("provider", String(255), nullable=True),
    Column("reason", Text, nullable=False, default=""),
    Column("created", BigInteger, nullable=False),
    Index("ix_node_requests_state", "state"),
)

autoholds = Table(
    "autoholds",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant", String(255), nullable=False),
    Column("project", String(255), nullable=False),
    Column("job", String(255), nullable=False),
    Column("ref_filter", String(1024), nullable=False),
    Column("reason", Text, nullable=False),
    Column("count", Integer, nullable=False),
    Column("held", Integer, nullable=False, default=0),
    Column("node_expiration", Integer, nullable=True),  # seconds; NULL: until deleted
    Column("created", BigInteger, nullable=False),
    Index("ix_autoholds_tenant", "tenant"),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    # The SHA-256 of the cookie's token: a copy of the table signs no one in.
    Column("id", String(64), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("expires", BigInteger, nullable=False),
    Index("ix_web_sessions_account_id", "account_id"),
)
