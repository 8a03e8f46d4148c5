# Shared helpers for scripts/*: sourced, not run.

# Picks a JDK >= 21: JAVA_HOME if it is one, else the newest under /usr/lib/jvm. Exports JAVA_HOME and PATH.
keyrelay_pick_jdk() {
  local v
  java_major() { "$1/bin/java" -version 2>&1 | awk -F'"' '/version/ {split($2, a, "."); print (a[1] == "1" ? a[2] : a[1]); exit}'; }
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$(java_major "$JAVA_HOME")
    if [ "${v:-0}" -ge 21 ] 2>/dev/null; then
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
    echo "keyrelay: JAVA_HOME=$JAVA_HOME is Java ${v:-?}; looking for Java 21 or newer under /usr/lib/jvm" >&2
  fi
  local best="" best_v=0 d
  for d in /usr/lib/jvm/*/; do
    d=${d%/}
    [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ] || continue
    v=$(java_major "$d")
    if [ "${v:-0}" -gt "$best_v" ] 2>/dev/null; then best=$d; best_v=$v; fi
  done
  if [ -z "$best" ] || [ "$best_v" -lt 21 ]; then
    echo "keyrelay: no JDK 21 or newer found (JAVA_HOME or /usr/lib/jvm/*). Install one, e.g. apt-get install openjdk-21-jdk or Temurin 25." >&2
    return 1
  fi
  export JAVA_HOME=$best
  export PATH="$JAVA_HOME/bin:$PATH"
}

# Installs Debian packages that are missing (as root, or with sudo).
keyrelay_apt_install() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "keyrelay: installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

keyrelay_port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

keyrelay_free_port() {
  local p
  for p in $(seq "${1:-55432}" "$(( ${1:-55432} + 200 ))"); do
    keyrelay_port_open 127.0.0.1 "$p" || { echo "$p"; return 0; }
  done
  return 1
}
