#!/usr/bin/env bash
# Builds the Containerfile's runtime stage by hand where no container registry or runtime is usable:
# a Debian bookworm minbase from Debian's packages (debootstrap) with ca-certificates, the same non-root user
# (uid 10001) and the binary, then runs the demo job in it with chroot as that user.
# Needs root and debootstrap. Usage: scripts/verify_image_rootfs.sh [BINARY]   (default target/release)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/target/release/wrapup-audit}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fs="$work/rootfs"
debootstrap --variant=minbase --include=ca-certificates bookworm "$fs" http://deb.debian.org/debian >/dev/null
chroot "$fs" sh -c 'groupadd --system --gid 10001 wrapup \
  && useradd --system --uid 10001 --gid wrapup --home-dir /reports --shell /usr/sbin/nologin wrapup \
  && mkdir -p /reports /etc/wrapup-audit && chown wrapup:wrapup /reports' 2>/dev/null
install -m 0755 "$bin" "$fs/usr/local/bin/wrapup-audit"
cp "$root"/jobs/{nightly,backfill,demo}.toml "$fs/etc/wrapup-audit/"
test -s "$fs/etc/ssl/certs/ca-certificates.crt"
chroot --userspec=10001:10001 "$fs" /bin/sh -c \
  'cd /reports && wrapup-audit run --job /etc/wrapup-audit/demo.toml --as-of 2026-11-21T00:20:00Z --output-dir /reports/demo'
test -s "$fs/reports/demo/summary.html"
echo "runtime filesystem verified: $(du -sh "$fs" | cut -f1), demo ran as uid 10001, CA bundle present"
