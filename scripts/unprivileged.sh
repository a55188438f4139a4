# Sourced by the scripts that start the project's own servers (redis.sh, smtp.sh): run a
# server as an unprivileged system user when we are root, with its data folder under the
# work tree (git-ignored), or under /var/tmp behind a link when that user cannot reach the
# work tree (a clone under a root-only home). As another user, everything runs as that user.

# as_user USER CMD...: run CMD as USER when root (from /, which USER can always enter).
as_user() {
  local user=$1
  shift
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u "$user" -- "$@")
  else
    "$@"
  fi
}

# ensure_user USER: create the system user if missing (root only).
ensure_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  id "$1" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$1"
}

# data_dir PATH USER: create PATH (mode 700) for USER; prints the resolved folder.
data_dir() {
  local path=$1 user=$2
  if [ ! -e "$path" ]; then
    mkdir -p "$path"
    chmod 700 "$path"
    if [ "$(id -u)" -eq 0 ]; then
      chown "$user": "$path"
      if ! runuser -u "$user" -- test -w "$path"; then
        rmdir "$path"
        local outside
        outside=/var/tmp/peacemap-$(basename "$path" | tr -d .)-$(printf '%s' "$path" | md5sum | cut -c1-12)
        mkdir -p "$outside"
        chown "$user": "$outside"
        chmod 700 "$outside"
        ln -s "$outside" "$path"
      fi
    fi
  fi
  readlink -f "$path"
}
