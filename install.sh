#!/usr/bin/env bash
# borgctl installer, one line per role:
#   curl -fsSL <release-url>/install.sh | sudo bash -s -- box|agent|server [options]
#
# What it does, in order (nothing is written before step 2 succeeds):
#   1. checks the arguments, detects the OS (linux, darwin) and arch (x64, arm64);
#   2. fetches borgctl-<os>-<arch> and SHA256SUMS into a temp dir (or copies them from
#      --dist), verifies the checksum and that the binary runs here;
#   3. installs the binary as /usr/local/bin/borgctl (temp file + rename: an upgrade never
#      leaves a half-written binary, and a running service keeps its old inode);
#   4. sets up the role: system user, directories, config, secrets, service unit. Units come
#      from the binary itself (`borgctl <role> service print|install`), one source of truth.
# Re-running upgrades the binary and units in place and keeps tokens, config and data.
# --uninstall removes units and the binary (data stays unless --purge).
# --root DIR writes everything under DIR and touches nothing of the running system: no
# useradd, chown, systemctl or launchctl (for packaging and tests).
set -euo pipefail
umask 022

DEFAULT_BASE_URL="https://github.com/borgctl/borgctl/releases"
BIN=/usr/local/bin/borgctl
CONF_DIR=/etc/borgctl
UNIT_DIR=/etc/systemd/system

usage() {
  cat <<'EOF'
Install borgctl and set up one role as a service.

Usage: install.sh box|agent|server [options]

Common options:
  --version vX.Y.Z   install this release (default: the latest)
  --base-url URL     where releases live (default https://github.com/borgctl/borgctl/releases)
  --dist DIR         install from a local build (DIR has borgctl-<os>-<arch> and SHA256SUMS)
  --root DIR         install under DIR (packaging, tests): no users, chown or service manager
  --no-start         set everything up but do not enable or start the service
  --uninstall        remove the service and the binary; config and data are kept
  --purge            with --uninstall: also remove config and data (never box repositories)
  -h, --help         show this help

box (storage server, Linux):
  --addr HOST:PORT   listen address (default :9999)
  --home DIR         home of the borg user; repos/ and .ssh/ live here (default /var/lib/borg)

server (the hub, Linux):
  --addr HOST:PORT   listen address (default 127.0.0.1:8080; :8080 exposes it)
  --data-dir DIR     database and secret key (default /var/lib/borgctl/server)

agent (every machine to back up, Linux or macOS):
  --server URL       the hub's URL; with --token, registers this machine
  --token TOKEN      a one-time enrollment token from the hub
  --name NAME        name shown in the hub (default: hostname)
  --insecure         allow plain http:// to a hub on another machine

Examples:
  curl -fsSL https://github.com/borgctl/borgctl/releases/latest/download/install.sh | sudo bash -s -- box
  sudo bash install.sh agent --server https://hub.example.com --token borgctl_enroll_...
  sudo bash install.sh server --addr :8080 --dist ./dist
EOF
}

say() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}
usage_error() {
  printf 'error: %s\nRun "install.sh --help" for the options.\n' "$*" >&2
  exit 2
}

# ---- arguments ------------------------------------------------------------------------

ROLE=""
VERSION=""
BASE_URL="$DEFAULT_BASE_URL"
DIST=""
ADDR=""
HOME_DIR=""
DATA_DIR=""
SERVER_URL=""
ENROLL_TOKEN=""
AGENT_NAME=""
INSECURE=0
ROOT=""
ROOT_SET=0
START=1
UNINSTALL=0
PURGE=0

need_value() {
  if [ "$#" -lt 2 ] || [ -z "$2" ]; then usage_error "$1 needs a value"; fi
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
  esac
  case "$1" in
    box | agent | server)
      [ -z "$ROLE" ] || usage_error "one role at a time (got $ROLE and $1)"
      ROLE="$1"
      ;;
    --version) need_value "$@"; VERSION="$2"; shift ;;
    --base-url) need_value "$@"; BASE_URL="${2%/}"; shift ;;
    --dist) need_value "$@"; DIST="$2"; shift ;;
    --addr) need_value "$@"; ADDR="$2"; shift ;;
    --home) need_value "$@"; HOME_DIR="${2%/}"; shift ;;
    --data-dir) need_value "$@"; DATA_DIR="${2%/}"; shift ;;
    --server) need_value "$@"; SERVER_URL="$2"; shift ;;
    --token) need_value "$@"; ENROLL_TOKEN="$2"; shift ;;
    --name) need_value "$@"; AGENT_NAME="$2"; shift ;;
    --insecure) INSECURE=1 ;;
    --root) need_value "$@"; ROOT="$2"; ROOT_SET=1; shift ;;
    --no-start) START=0 ;;
    --uninstall) UNINSTALL=1 ;;
    --purge) PURGE=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown argument \"$1\"" ;;
  esac
  shift
done

[ -n "$ROLE" ] || usage_error "which role? box, agent or server"
[ "$PURGE" = 0 ] || [ "$UNINSTALL" = 1 ] || usage_error "--purge goes with --uninstall"
# Paths that end up in a systemd unit: absolute, and nothing the unit would read specially.
plain_path() {
  case "$2" in
    /?*) ;;
    *) usage_error "$1 must be an absolute path, got \"$2\"" ;;
  esac
  case "$2" in
    *[!A-Za-z0-9_./@+,:=-]* | *..*) usage_error "$1 \"$2\" must be a plain path (no spaces, quotes, %, \$ or ..)" ;;
  esac
}
[ -z "$HOME_DIR" ] || plain_path --home "$HOME_DIR"
[ -z "$DATA_DIR" ] || plain_path --data-dir "$DATA_DIR"
case "$VERSION" in
  "" | v[0-9]*) case "$VERSION" in *[!A-Za-z0-9._+-]*) usage_error "--version looks like v1.2.3, got \"$VERSION\"" ;; esac ;;
  *) usage_error "--version looks like v1.2.3, got \"$VERSION\"" ;;
esac
case "$ROLE" in
  box | server) [ -z "$SERVER_URL$ENROLL_TOKEN$AGENT_NAME" ] || usage_error "--server, --token and --name are for the agent" ;;
  agent) [ -z "$ADDR$HOME_DIR$DATA_DIR" ] || usage_error "--addr, --home and --data-dir are for box and server" ;;
esac
[ "$ROLE" = box ] || [ -z "$HOME_DIR" ] || usage_error "--home is for the box"
[ "$ROLE" = server ] || [ -z "$DATA_DIR" ] || usage_error "--data-dir is for the server"
if [ -n "$SERVER_URL" ] || [ -n "$ENROLL_TOKEN" ]; then
  if [ -z "$SERVER_URL" ] || [ -z "$ENROLL_TOKEN" ]; then usage_error "--server and --token go together"; fi
fi
case "$ADDR" in
  "" | *:[0-9]*) ;;
  *) usage_error "--addr must be HOST:PORT or :PORT, got \"$ADDR\"" ;;
esac

if [ "$ROOT_SET" = 1 ]; then
  case "$ROOT" in
    /*) ;;
    *) ROOT="$PWD/$ROOT" ;;
  esac
  ROOT="${ROOT%/}"
elif [ "$(id -u)" != 0 ]; then
  die "installing borgctl needs root: run it with sudo (or use --root DIR to install under a directory)"
fi

case "$(uname -s)" in
  Linux) OS=linux ;;
  Darwin) OS=darwin ;;
  *) die "unsupported OS $(uname -s): borgctl runs on Linux and macOS" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) ARCH=x64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) die "unsupported CPU $(uname -m): borgctl is built for x86_64 and arm64" ;;
esac
if [ "$OS" = darwin ] && [ "$ROLE" != agent ]; then
  die "the $ROLE service needs systemd (Linux); on macOS install.sh sets up the agent only"
fi

# Things --root did not do on the real system, reported at the end.
SKIPPED=()
skip() { SKIPPED+=("$*"); }

# ---- helpers ----------------------------------------------------------------------------

# Owner changes need the users this script creates, which --root never creates.
set_owner() {
  local owner="$1"
  shift
  if [ "$ROOT_SET" = 1 ]; then
    skip "chown $owner $*"
  else
    chown "$owner" "$@"
  fi
}

# make_dir MODE OWNER DIR: create if missing; mode and owner are enforced every run.
make_dir() {
  mkdir -p "$3"
  chmod "$1" "$3"
  set_owner "$2" "$3"
}

# new_dir MODE OWNER DIR: like make_dir, but an existing directory is left as it is.
new_dir() {
  [ -d "$3" ] || make_dir "$@"
}

# write_file MODE DEST < content: temp file in the same directory, then rename.
write_file() {
  local tmp
  tmp="$2.tmp.$$"
  (umask 077 && cat >"$tmp")
  chmod "$1" "$tmp"
  mv -f "$tmp" "$2"
}

random_hex() {
  # od reads exactly N bytes, so no pipe is cut short (which pipefail would report).
  od -An -tx1 -N "$1" /dev/urandom | tr -d ' \n'
}

nologin_shell() {
  local shell
  for shell in /usr/sbin/nologin /sbin/nologin /usr/bin/false; do
    [ -x "$shell" ] && { echo "$shell"; return; }
  done
  echo /bin/false
}

# ensure_user NAME HOME SHELL: a system user and a group of the same name.
# Sets USER_CREATED=1 when this run created it.
USER_CREATED=0
ensure_user() {
  USER_CREATED=0
  if [ "$ROOT_SET" = 1 ]; then
    skip "create system user $1 (home $2)"
    return
  fi
  if id "$1" >/dev/null 2>&1; then
    say "reusing user $1"
    return
  fi
  command -v useradd >/dev/null 2>&1 || die "useradd not found: create the system user $1 (home $2) yourself, then re-run"
  useradd --system --user-group --home-dir "$2" --no-create-home --shell "$3" "$1"
  USER_CREATED=1
  say "created system user $1"
}

systemd_running() { [ -d /run/systemd/system ]; }

# activate UNIT: load the (new) unit, then enable and (re)start it unless --no-start.
activate() {
  if [ "$ROOT_SET" = 1 ]; then
    skip "systemctl daemon-reload; systemctl enable --now $1"
    return
  fi
  if ! systemd_running; then
    warn "systemd is not running here: $1 is installed but not started; start it with: systemctl enable --now $1"
    return
  fi
  systemctl daemon-reload
  if [ "$START" = 0 ]; then
    say "not started (--no-start); start it with: systemctl enable --now $1"
    return
  fi
  systemctl enable --quiet "$1"
  systemctl restart "$1"
  say "enabled and started $1"
}

deactivate() {
  if [ "$ROOT_SET" = 1 ]; then
    skip "systemctl disable --now $1"
  elif systemd_running; then
    systemctl disable --now --quiet "$1" 2>/dev/null || true
  fi
}

# The URL clients use for a listen address: ":9999" and "0.0.0.0:9999" mean this host.
addr_url() {
  local addr="$1" path="$2" host port
  port="${addr##*:}"
  host="${addr%:*}"
  case "$host" in
    "" | 0.0.0.0 | "[::]") host="$(hostname -f 2>/dev/null || hostname)" ;;
  esac
  printf 'http://%s:%s%s\n' "$host" "$port" "$path"
}

# The value of KEY in an env file (KEY=value lines), or nothing.
env_value() {
  [ -f "$1" ] || return 0
  sed -n "s/^$2=//p" "$1" | tail -n 1
}

install_hint() {
  local pkgs="$1" id=""
  if [ -r /etc/os-release ]; then
    # shellcheck source=/dev/null
    id="$(. /etc/os-release && echo "${ID:-} ${ID_LIKE:-}")"
  fi
  case " $id " in
    *" debian "* | *" ubuntu "*) echo "apt-get install -y $pkgs" ;;
    *" fedora "* | *" rhel "* | *" centos "*) echo "dnf install -y $pkgs" ;;
    *" arch "*) echo "pacman -S $pkgs" ;;
    *" suse "* | *" opensuse "*) echo "zypper install $pkgs" ;;
    *" alpine "*) echo "apk add $pkgs" ;;
    *) echo "install $pkgs with your package manager" ;;
  esac
}

other_units_installed() {
  local role unit
  for role in box server agent; do
    [ "$role" = "$ROLE" ] && continue
    unit="$ROOT$UNIT_DIR/borgctl-$role.service"
    [ -e "$unit" ] && return 0
  done
  if [ "$ROLE" != agent ] && compgen -G "$ROOT/Library/LaunchDaemons/*borgctl.agent.plist" >/dev/null; then
    return 0
  fi
  return 1
}

AGENT_CONFIG=/etc/borgctl/agent.toml
AGENT_STATE=/var/lib/borgctl/agent
if [ "$OS" = darwin ]; then
  AGENT_CONFIG="/Library/Application Support/borgctl/agent.toml"
  AGENT_STATE="/Library/Application Support/borgctl/agent"
fi

# ---- uninstall --------------------------------------------------------------------------

uninstall() {
  local unit="$ROOT$UNIT_DIR/borgctl-$ROLE.service" data=""
  case "$ROLE" in
    box | server)
      if [ "$ROLE" = server ]; then
        # The data dir the installed unit used, so --purge removes the right one.
        [ -f "$unit" ] && data="$(sed -n 's/^ExecStart=.* --data-dir \([^ ]*\).*/\1/p' "$unit")"
        data="${DATA_DIR:-${data:-/var/lib/borgctl/server}}"
      fi
      deactivate "borgctl-$ROLE.service"
      if [ -e "$unit" ]; then
        rm -f "$unit"
        say "removed $unit"
      fi
      if [ "$ROOT_SET" = 0 ] && systemd_running; then systemctl daemon-reload; fi
      ;;
    agent)
      if [ -x "$ROOT$BIN" ]; then
        if [ "$ROOT_SET" = 1 ]; then
          "$ROOT$BIN" agent service uninstall --root "$ROOT"
        else
          "$BIN" agent service uninstall
        fi
      else
        rm -f "$ROOT$UNIT_DIR/borgctl-agent.service" "$ROOT"/Library/LaunchDaemons/*borgctl.agent.plist
      fi
      ;;
  esac

  if [ "$PURGE" = 1 ]; then
    case "$ROLE" in
      box)
        rm -f "$ROOT$CONF_DIR/box.env" "$ROOT$CONF_DIR/box.token"
        say "removed $ROOT$CONF_DIR/box.env and box.token"
        say "kept the borg user's home with the repositories: backups are never deleted by the installer"
        ;;
      server)
        rm -f "$ROOT$CONF_DIR/server.env"
        case "$data" in
          /?*)
            rm -rf "${ROOT}${data:?}"
            say "removed $ROOT$data (the hub's database and secret key)"
            ;;
        esac
        ;;
      agent)
        if [ "$ROOT_SET" = 0 ] && [ -f "$AGENT_CONFIG" ] && [ -x "$BIN" ]; then
          # Tell the hub first, so it revokes this machine's credential.
          "$BIN" agent unregister --config "$AGENT_CONFIG" || warn "could not unregister from the hub: revoke this machine there"
        fi
        rm -f "$ROOT$AGENT_CONFIG"
        rm -rf "${ROOT}${AGENT_STATE:?}"
        say "removed $ROOT$AGENT_CONFIG and $ROOT$AGENT_STATE"
        ;;
    esac
    rmdir "$ROOT$CONF_DIR" 2>/dev/null || true
  else
    case "$ROLE" in
      box) say "kept $ROOT$CONF_DIR/box.env, box.token and the borg user's home (add --purge to remove the config)" ;;
      server) say "kept $ROOT$CONF_DIR/server.env and the hub's data dir (add --purge to remove them)" ;;
      agent) say "kept $ROOT$AGENT_CONFIG and $ROOT$AGENT_STATE (add --purge to unregister and remove them)" ;;
    esac
  fi

  if other_units_installed; then
    say "kept $ROOT$BIN: another borgctl service still uses it"
  elif [ -e "$ROOT$BIN" ]; then
    rm -f "$ROOT$BIN"
    say "removed $ROOT$BIN"
  fi
  case "$ROLE" in
    box) say "the system user borg is kept (userdel borg removes it)" ;;
    server) say "the system user borgctl is kept (userdel borgctl removes it)" ;;
  esac
}

# ---- fetch and verify -------------------------------------------------------------------

TMP="$(mktemp -d "${TMPDIR:-/tmp}/borgctl-install.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
ASSET="borgctl-$OS-$ARCH"

fetch_release() {
  if [ -n "$DIST" ]; then
    [ -f "$DIST/$ASSET" ] || die "$DIST/$ASSET not found (build it with: bun run build --target $OS-$ARCH)"
    [ -f "$DIST/SHA256SUMS" ] || die "$DIST/SHA256SUMS not found"
    cp "$DIST/$ASSET" "$DIST/SHA256SUMS" "$TMP/"
    say "using $DIST/$ASSET"
    return
  fi
  command -v curl >/dev/null 2>&1 || die "curl not found: install curl, or use --dist DIR"
  local url proto
  if [ -n "$VERSION" ]; then url="$BASE_URL/download/$VERSION"; else url="$BASE_URL/latest/download"; fi
  case "$url" in
    https://*) proto="=https" ;;
    http://*)
      proto="=http"
      warn "downloading over plain HTTP: the checksum catches corruption, not tampering"
      ;;
    *) usage_error "--base-url must be an http(s) URL, got \"$BASE_URL\"" ;;
  esac
  say "downloading $url/$ASSET"
  curl -fsSL --proto "$proto" --tlsv1.2 --retry 3 -o "$TMP/$ASSET" "$url/$ASSET" || die "download of $url/$ASSET failed"
  curl -fsSL --proto "$proto" --tlsv1.2 --retry 3 -o "$TMP/SHA256SUMS" "$url/SHA256SUMS" || die "download of $url/SHA256SUMS failed"
}

verify_release() {
  local expected actual count
  count="$(awk -v f="$ASSET" '$2 == f || $2 == "*" f' "$TMP/SHA256SUMS" | wc -l | tr -d ' ')"
  [ "$count" != 0 ] || die "SHA256SUMS has no entry for $ASSET: refusing to install (nothing was changed)"
  [ "$count" = 1 ] || die "SHA256SUMS has $count entries for $ASSET: refusing to install (nothing was changed)"
  expected="$(awk -v f="$ASSET" '$2 == f || $2 == "*" f { print tolower($1) }' "$TMP/SHA256SUMS")"
  if command -v sha256sum >/dev/null 2>&1; then
    actual="$(sha256sum "$TMP/$ASSET" | awk '{ print $1 }')"
  elif command -v shasum >/dev/null 2>&1; then
    actual="$(shasum -a 256 "$TMP/$ASSET" | awk '{ print $1 }')"
  else
    die "neither sha256sum nor shasum found: cannot verify the download"
  fi
  [ "$expected" = "$actual" ] || die "checksum mismatch for $ASSET: SHA256SUMS says $expected, the file is $actual; refusing to install (nothing was changed)"
  say "checksum ok ($actual)"
  chmod 0755 "$TMP/$ASSET"
  VERSION_LINE="$("$TMP/$ASSET" --version 2>&1)" || die "$ASSET does not run on this machine: $VERSION_LINE"
}

install_binary() {
  mkdir -p "$ROOT$(dirname "$BIN")"
  # A temp name in the same directory and a rename: never a half-written borgctl.
  install -m 0755 "$TMP/$ASSET" "$ROOT$BIN.new.$$"
  mv -f "$ROOT$BIN.new.$$" "$ROOT$BIN"
  say "installed $ROOT$BIN ($VERSION_LINE)"
}

# ---- roles ------------------------------------------------------------------------------

setup_box() {
  local home="${HOME_DIR:-/var/lib/borg}" etc="$ROOT$CONF_DIR" token="" addr env_addr
  if [ "$ROOT_SET" = 0 ] && id borg >/dev/null 2>&1; then
    local actual
    actual="$(getent passwd borg | cut -d: -f6)"
    if [ -z "$HOME_DIR" ]; then
      home="$actual"
      plain_path "borg's home" "$home"
    elif [ "$actual" != "$home" ]; then
      # sshd reads ~borg/.ssh/authorized_keys; the box would write the keys somewhere else.
      warn "user borg exists with home $actual, not $home: sshd will not see the keys the box writes; use --home $actual, or: usermod -d $home borg"
    fi
  fi
  # sshd runs the forced `borg serve` through the user's shell: it needs a real one.
  ensure_user borg "$home" /bin/sh
  if [ "$USER_CREATED" = 1 ]; then
    # useradd leaves the account locked ("!"), which sshd refuses when it runs without PAM;
    # "*" means "no password" without locking key logins out.
    usermod -p '*' borg
  fi
  new_dir 0750 borg:borg "$ROOT$home"
  make_dir 0700 borg:borg "$ROOT$home/repos"
  make_dir 0700 borg:borg "$ROOT$home/.ssh"
  [ -e "$ROOT$home/.ssh/authorized_keys" ] || : >"$ROOT$home/.ssh/authorized_keys"
  chmod 0600 "$ROOT$home/.ssh/authorized_keys"
  set_owner borg:borg "$ROOT$home/.ssh/authorized_keys"
  # borg keeps its security dir and cache here when the box runs check/prune/compact.
  new_dir 0700 borg:borg "$ROOT$home/.config"
  new_dir 0700 borg:borg "$ROOT$home/.config/borg"
  new_dir 0700 borg:borg "$ROOT$home/.cache"
  new_dir 0700 borg:borg "$ROOT$home/.cache/borg"

  mkdir -p "$etc"
  if [ ! -s "$etc/box.token" ]; then
    token="$(random_hex 20)"
    printf '%s\n' "$token" | write_file 0640 "$etc/box.token"
    say "wrote a new token to $etc/box.token"
  else
    chmod 0640 "$etc/box.token"
    say "kept the token in $etc/box.token"
  fi
  set_owner root:borg "$etc/box.token"
  if [ ! -f "$etc/box.env" ]; then
    write_file 0640 "$etc/box.env" <<EOF
# borgctl box settings, read by borgctl-box.service (see: borgctl box --help).
# The repo root and authorized_keys paths are in the unit: its sandbox must know them.
BORGBOX_ADDR=${ADDR:-:9999}
BORGBOX_TOKEN=@$CONF_DIR/box.token
# How clients reach this box over SSH; adds ssh_url to repos:
#BORGBOX_SSH_HOST=backup.example.com
EOF
    say "wrote $etc/box.env"
  else
    env_addr="$(env_value "$etc/box.env" BORGBOX_ADDR)"
    if [ -n "$ADDR" ] && [ "$ADDR" != "$env_addr" ]; then
      warn "kept $etc/box.env (BORGBOX_ADDR=$env_addr); edit it to listen on $ADDR"
    fi
    say "kept $etc/box.env"
  fi
  set_owner root:borg "$etc/box.env"
  addr="$(env_value "$etc/box.env" BORGBOX_ADDR)"

  mkdir -p "$ROOT$UNIT_DIR"
  "$ROOT$BIN" box service print --home "$home" >"$TMP/unit"
  install -m 0644 "$TMP/unit" "$ROOT$UNIT_DIR/borgctl-box.service"
  say "wrote $ROOT$UNIT_DIR/borgctl-box.service"
  activate borgctl-box.service

  command -v borg >/dev/null 2>&1 || warn "borg is not installed; clients need it here for borg serve: $(install_hint borgbackup)"
  [ -x /usr/sbin/sshd ] || command -v sshd >/dev/null 2>&1 || warn "sshd is not installed; clients reach repos over SSH: $(install_hint openssh-server)"

  echo
  echo "Box URL: $(addr_url "${addr:-:9999}" /api/v1)"
  if [ -n "$token" ]; then
    echo "Token:   $token"
    echo "(shown once; it is also in $CONF_DIR/box.token, readable by root and the borg group)"
  else
    echo "Token:   unchanged, see $CONF_DIR/box.token"
  fi
}

setup_server() {
  local data="${DATA_DIR:-/var/lib/borgctl/server}" etc="$ROOT$CONF_DIR" password="" addr
  ensure_user borgctl "$data" "$(nologin_shell)"
  mkdir -p "$ROOT$(dirname "$data")"
  make_dir 0700 borgctl:borgctl "$ROOT$data"
  mkdir -p "$etc"
  if [ ! -f "$etc/server.env" ]; then
    password="$(random_hex 16)"
    write_file 0640 "$etc/server.env" <<EOF
# borgctl server settings, read by borgctl-server.service (see: borgctl server --help).
# The data dir is in the unit: its sandbox must know it.
BORGCTL_ADDR=${ADDR:-127.0.0.1:8080}
#BORGCTL_PUBLIC_URL=https://backup.example.com
# The first admin's password: used once, when the hub starts with no users, to create
# the user "admin". Sign in, change it, then delete this line.
BORGCTL_ADMIN_PASSWORD=$password
EOF
    say "wrote $etc/server.env"
  else
    if [ -n "$ADDR" ] && [ "$ADDR" != "$(env_value "$etc/server.env" BORGCTL_ADDR)" ]; then
      warn "kept $etc/server.env; edit BORGCTL_ADDR there to listen on $ADDR"
    fi
    say "kept $etc/server.env"
  fi
  set_owner root:borgctl "$etc/server.env"
  addr="$(env_value "$etc/server.env" BORGCTL_ADDR)"

  mkdir -p "$ROOT$UNIT_DIR"
  "$ROOT$BIN" server service print --data-dir "$data" >"$TMP/unit"
  install -m 0644 "$TMP/unit" "$ROOT$UNIT_DIR/borgctl-server.service"
  say "wrote $ROOT$UNIT_DIR/borgctl-server.service"
  activate borgctl-server.service

  echo
  echo "Hub URL: $(addr_url "${addr:-127.0.0.1:8080}" "")"
  if [ -n "$password" ]; then
    echo "Sign in as admin with password: $password"
    echo "(shown once; it is also in $CONF_DIR/server.env until you delete that line)"
  else
    echo "The first admin's password was printed by the first install (see $CONF_DIR/server.env"
    echo "unless that line was deleted, or: journalctl -u borgctl-server)."
  fi
  case "${addr:-}" in
    127.* | localhost:* | "[::1]:"*)
      echo "It listens on loopback only: put a TLS proxy in front, or set BORGCTL_ADDR=:8080"
      echo "in $CONF_DIR/server.env and restart it."
      ;;
  esac
}

setup_agent() {
  local config="$ROOT$AGENT_CONFIG" registered=0
  local args=()
  if [ -n "$SERVER_URL" ]; then
    if [ -f "$config" ]; then
      say "already registered ($config); keeping it (run 'borgctl agent unregister' to start over)"
    else
      args=(agent register --server "$SERVER_URL" --token "$ENROLL_TOKEN" --config "$config" --state-dir "$ROOT$AGENT_STATE")
      [ -z "$AGENT_NAME" ] || args+=(--name "$AGENT_NAME")
      [ "$INSECURE" = 0 ] || args+=(--insecure)
      "$ROOT$BIN" "${args[@]}"
    fi
  fi
  [ -f "$config" ] && registered=1

  args=(agent service install --config "$AGENT_CONFIG")
  [ "$ROOT_SET" = 0 ] || args+=(--root "$ROOT")
  if [ "$START" = 0 ] || [ "$registered" = 0 ]; then args+=(--no-start); fi
  "$ROOT$BIN" "${args[@]}"
  [ "$ROOT_SET" = 0 ] || skip "systemctl/launchctl for the agent service"

  command -v borg >/dev/null 2>&1 || warn "borg is not installed; the agent runs it for every backup: $(install_hint borgbackup)"
  if [ "$registered" = 0 ]; then
    echo
    echo "Not registered yet. Create an enrollment token in the hub, then:"
    echo "  sudo borgctl agent register --server https://HUB --token borgctl_enroll_... --config '$AGENT_CONFIG'"
    if [ "$OS" = darwin ]; then
      echo "  sudo launchctl bootstrap system /Library/LaunchDaemons/io.github.borgctl.agent.plist"
    else
      echo "  sudo systemctl enable --now borgctl-agent.service"
    fi
  fi
}

# ---- main -------------------------------------------------------------------------------

if [ "$UNINSTALL" = 1 ]; then
  uninstall
else
  fetch_release
  verify_release
  install_binary
  "setup_$ROLE"
fi

if [ "${#SKIPPED[@]}" -gt 0 ]; then
  echo
  echo "Not done on this system because of --root $ROOT:"
  printf '  %s\n' "${SKIPPED[@]}"
fi
