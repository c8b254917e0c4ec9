#!/usr/bin/env bash
# What a user sees: a crate outside the workspace depends on the Typhoon crates by path, with
# default features except the ones a user would name (`typhoon-web` with "gzip" and "tls"), and
# runs .ci/downstream/main.rs over real 127.0.0.1 sockets. `cargo test --workspace` cannot see a
# feature that a crate forgets to forward: it unifies features across every member, so
# typhoon-template has `json` and typhoon-httpserver has `gzip` there whatever typhoon-web says.
#
# The build goes to target/downstream (dependencies compile once per CI and go with the target;
# DOWNSTREAM_TARGET_DIR overrides it) with the workspace's Cargo.lock, so versions match and
# nothing new is downloaded.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_INCREMENTAL=0
export CARGO_TARGET_DIR="${DOWNSTREAM_TARGET_DIR:-$repo/target/downstream}"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/src" "$scratch/templates"
cp "$repo/.ci/downstream/main.rs" "$scratch/src/main.rs"
cp "$repo/Cargo.lock" "$scratch/Cargo.lock"
printf '%s' '{{ json_encode(value) }}' >"$scratch/templates/data.txt"
cat >"$scratch/Cargo.toml" <<TOML
[package]
name = "typhoon-downstream"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
typhoon-ioloop = { path = "$repo/ioloop" }
# Named for tls::server_config_from_pem_files, as a user building a TLS config would.
typhoon-iostream = { path = "$repo/iostream", features = ["tls"] }
typhoon-web = { path = "$repo/web", features = ["gzip", "tls"] }
typhoon-httpclient = { path = "$repo/httpclient" }
flate2 = { version = "1.1", default-features = false, features = ["rust_backend"] }

# A workspace of its own: never a member of an enclosing one.
[workspace]

# As the workspace: line tables, not full debug info, for dependencies.
[profile.dev.package."*"]
debug = "line-tables-only"
TOML

cargo run --quiet --manifest-path "$scratch/Cargo.toml" -- \
  "$repo/testing/fixtures" "$scratch/templates"
