#!/usr/bin/env bash
# Builds target/debian/saidno_*.deb: the release binary, and beside it the manual page, the shell
# completions and the packaged configuration, all written by that same binary or from the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --release --locked
saidno=target/release/saidno

mkdir -p target/man target/completions target/deb
"$saidno" manual >target/man/saidno.1
"$saidno" completions bash >target/completions/saidno.bash
"$saidno" completions zsh >target/completions/_saidno
"$saidno" completions fish >target/completions/saidno.fish

# The example with every default, except that the database lives where the service's sandbox
# lets it write, so that commands run by hand open the same database as the service.
sed 's|^data_dir = "data"$|data_dir = "/var/lib/saidno"|' config/saidno.example.toml >target/deb/saidno.toml
if ! grep -qx 'data_dir = "/var/lib/saidno"' target/deb/saidno.toml; then
  echo 'build.sh: config/saidno.example.toml no longer has the line data_dir = "data"' >&2
  exit 1
fi

cargo deb --no-build --locked
