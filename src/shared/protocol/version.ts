/**
 * The hub<->agent protocol version. One integer, bumped on any change an older peer
 * could misread. The hub accepts agents in [MIN_SUPPORTED_PROTOCOL, PROTOCOL_VERSION]
 * and answers others with `protocol_unsupported`.
 *
 * Changelog:
 * - 1 (2026-11-22): first version — register, heartbeat, poll, claim, start, progress,
 *   logs, complete, fail, canceled.
 */
export const PROTOCOL_VERSION = 1;
export const MIN_SUPPORTED_PROTOCOL = 1;
