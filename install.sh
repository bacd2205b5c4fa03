#!/usr/bin/env bash
# borgctl installer: `curl -fsSL <release-url>/install.sh | sudo bash -s -- <role> [options]`.
# Not built yet: the installer lands with its own issue (checksum-verified download,
# system user, hardened systemd/launchd units per role). Until then, build with
# `bun run build` and copy dist/borgctl-<os>-<arch> to /usr/local/bin/borgctl yourself.
set -euo pipefail
echo "install.sh is not built yet; see README.md (Build and release) to install by hand." >&2
exit 1
