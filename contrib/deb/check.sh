#!/usr/bin/env bash
# Builds the Debian package, installs it on this machine and checks what was installed. Prints
# one `# pass 1` or `# fail 1` line per check (the summary at the end of .ci/run counts them) and
# exits non-zero when any check failed. Needs root, for dpkg.
set -uo pipefail
cd "$(dirname "$0")/../.."

failed=0
check() {
  local name=$1
  shift
  if "$@"; then
    echo "# pass 1 package: $name"
  else
    echo "# fail 1 package: $name"
    failed=1
  fi
}

command -v cargo-deb >/dev/null || cargo install --locked cargo-deb || exit 1
contrib/deb/build.sh || { echo "# fail 1 package: build"; exit 1; }
# The newest, in case target/debian keeps packages of earlier versions.
deb=$(ls -t target/debian/saidno_*.deb | head -n 1)
ls -l "$deb"

check "dpkg -i installs it" dpkg -i "$deb"
check "the saidno user exists" id saidno
check "the configuration is readable by the service alone" \
  test "$(stat -c '%U:%G %a' /etc/saidno/saidno.toml)" = "root:saidno 640"
check "saidno --version" /usr/bin/saidno --version
# As the service's user, so the check also proves the service can read the file.
check "config check of the packaged configuration" \
  runuser -u saidno -- /usr/bin/saidno --config /etc/saidno/saidno.toml config check
check "the manual page" sh -c 'gzip -dc /usr/share/man/man1/saidno.1.gz | head -n 1 | grep -q "^\.TH SAIDNO 1"'
check "bash completion" bash --noprofile --norc -c \
  'source /usr/share/bash-completion/completions/saidno && complete -p saidno >/dev/null'

# The verifier comes with Debian's systemd package, which installs harmlessly where systemd
# does not run (a container); it is not needed for anything else.
if ! command -v systemd-analyze >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends systemd >/dev/null ||
    echo "could not install systemd for systemd-analyze"
fi
if command -v systemd-analyze >/dev/null; then
  # Documentation=man:saidno(1) is looked up with man(1), which a minimal machine may lack.
  man_check=--man=no
  command -v man >/dev/null && man_check=--man=yes
  check "systemd-analyze verify" systemd-analyze verify "$man_check" /lib/systemd/system/saidno.service
else
  echo "skipped systemd-analyze verify: systemd-analyze is not installed and could not be"
fi

exit "$failed"
