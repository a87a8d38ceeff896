#!/usr/bin/env bash
# Makes docker.io/library/debian:bookworm-slim locally, for machines that reach Debian's mirror but no image
# registry: debootstrap --variant=minbase, trimmed as the official slim image is (no documentation, manual
# pages or translations, no apt caches), imported into podman's storage (which buildah shares).
# Does nothing when the image exists; the root file system tarball is kept in GENVID_IMAGE_CACHE for next time.
set -euo pipefail
BASE=docker.io/library/debian:bookworm-slim
CACHE=${GENVID_IMAGE_CACHE:-/var/cache/genvid-image}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if podman image exists "$BASE"; then
    echo "base image $BASE: present"
    exit 0
fi
mkdir -p "$CACHE"
tarball="$CACHE/bookworm-minbase.tar"
if [ ! -s "$tarball" ]; then
    rootfs=$(mktemp -d)
    trap 'rm -rf "$rootfs"' EXIT
    echo "base image: debootstrap --variant=minbase bookworm (about half a minute)"
    debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log"
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
# As in Debian's official slim images: packages installed later leave these out too.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/lintian/* \
           "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
           "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
    find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
    tar -C "$rootfs" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
fi
podman import --quiet "$tarball" "$BASE" >/dev/null
echo "base image $BASE: imported ($(podman image inspect --format '{{.Size}}' "$BASE") bytes)"
