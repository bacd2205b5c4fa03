/**
 * The hub<->agent protocol version. One integer, bumped on any change an older peer
 * could misread. The hub accepts agents in [MIN_SUPPORTED_PROTOCOL, PROTOCOL_VERSION]
 * and answers others with `protocol_unsupported`.
 *
 * Changelog:
 * - 1 (2026-11-22): first version — register, heartbeat, poll, claim, start, progress,
 *   logs, complete, fail, canceled.
 * - 1 (2026-12-01), compatible additions, no bump: both sides ignore unknown fields;
 *   protocol_version and a log's created_at may be absent; poll answers add type and
 *   payload (secrets as {secret_ref}); /jobs/{id}/cancel aliases /canceled; register and
 *   heartbeat may carry labels. An older peer reads all of it as before.
 * - 1 (2026-12-02), compatible addition, no bump: a backup.create result may carry
 *   `archive` (as archive.list describes one); an older hub drops it.
 * - 1 (2026-12-02), compatible addition, no bump: the repo.prune block may carry keep_last
 *   and archive_prefix (a plan's prune). An older agent would drop them and prune more, so
 *   the hub sends them only to agents whose capabilities list "repo.prune.plan".
 * - 1 (2026-12-02), compatible additions, no bump: job kinds archive.browse and
 *   archive.extract, and POST /jobs/{id}/listing (archive.browse's chunks). The hub
 *   queues them only to agents whose capabilities name them.
 * - 1 (2026-12-02), compatible addition, no bump: the backup block may carry
 *   optional_source_paths (backed up when present, skipped with a warning when not). An
 *   older agent would ignore them and back up less, so the hub queues a backup with
 *   optional sources only to agents whose capabilities list "backup.optional_sources".
 * - 1 (2026-12-02), compatible addition, no bump: job kind archive.download and
 *   POST /jobs/{id}/download?offset=N (its file's raw bytes, in order). The hub queues it
 *   only to agents whose capabilities name it.
 */
export const PROTOCOL_VERSION = 1;
export const MIN_SUPPORTED_PROTOCOL = 1;
