#!/bin/sh
# A Debian unstable root with Python 3.14, to run this project's tests and study on 3.14.
#
#   tools/python314-root.sh                 make the root and the project's venv in it (once)
#   tools/python314-root.sh COMMAND [ARG...] run COMMAND in the project folder inside the root,
#                                           the venv's python first on PATH
#
# Debian 12 has no Python 3.14 and unstable's binaries need a newer C library,
# so they run in a root of their own: debootstrap --variant=minbase from the
# machine's Debian mirror, signatures checked against the machine's archive
# keyring (gpgv), into $MAPREDUCE_PY314_ROOT (default ~/.cache/mapreduce-study/
# python3.14-root), outside the repository and reused by later runs.  Each run
# mounts /proc, /sys and /dev/shm in it (process pools need them) and the
# project at /project, copies in the machine's name resolution, CA
# certificates and pip settings (pip fails on certificate checks without
# them), and unmounts on exit.  It removes nothing outside its own folder.
# It needs root (debootstrap, chroot, mount); with a Python 3.14 of your own,
# run `nox -s tests-3.14` instead.
set -eu

ROOT=${MAPREDUCE_PY314_ROOT:-$HOME/.cache/mapreduce-study/python3.14-root}
PROJECT=$(cd "$(dirname "$0")/.." && pwd)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
PACKAGES=python3.14,python3.14-venv,ca-certificates,git
EXTRAS=dev,dask,plots

say() { echo "python314-root: $*" >&2; }
fail() { say "error: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, chroot and mount); with a Python 3.14 of your own, run: nox -s tests-3.14"
[ "$(uname -s)" = Linux ] || fail "needs Linux (debootstrap and chroot)"
CHROOT=$(command -v chroot) || fail "needs chroot (coreutils)"

mirror() {
    # the machine's own Debian mirror, from apt's sources; Debian's CDN if none
    found=$(sed -n 's/^URIs: *\([^ ]*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
    [ -n "$found" ] || found=$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\/debian\)\/* .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
    echo "${found:-http://deb.debian.org/debian}"
}

make_root() {
    [ -e "$ROOT/.complete" ] && return
    if ! command -v debootstrap >/dev/null; then
        command -v apt-get >/dev/null || fail "debootstrap is missing and there is no apt-get to install it"
        say "installing debootstrap"
        apt-get install -y -q --no-install-recommends debootstrap >/dev/null
    fi
    if [ -r "$KEYRING" ]; then
        check="--keyring=$KEYRING"
    else
        say "warning: no $KEYRING: the archive's signatures cannot be checked"
        check=--no-check-gpg
    fi
    say "making a Debian unstable root with Python 3.14 in $ROOT (a few minutes, once)"
    rm -rf "$ROOT.partial"
    mkdir -p "$(dirname "$ROOT")"
    debootstrap --variant=minbase --include="$PACKAGES" "$check" sid "$ROOT.partial" "$(mirror)" >&2 \
        || fail "debootstrap failed (its log: $ROOT.partial/debootstrap/debootstrap.log)"
    mv "$ROOT.partial" "$ROOT"
    echo "$PACKAGES" > "$ROOT/.packages"
    touch "$ROOT/.complete"
}

add_packages() {
    # a root made with fewer packages gets the rest from the archive
    [ "$(cat "$ROOT/.packages" 2>/dev/null)" = "$PACKAGES" ] && return
    say "adding to the root: $PACKAGES"
    # the mirror may serve a snapshot past its Valid-Until, as this machine's apt accepts
    for step in "update -q -o Acquire::Check-Valid-Until=false" "install -y -q --no-install-recommends $(echo "$PACKAGES" | tr , ' ')"; do
        # shellcheck disable=SC2086 (the step is words)
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
            "$CHROOT" "$ROOT" apt-get $step >&2 || fail "apt-get $step failed in the root"
    done
    echo "$PACKAGES" > "$ROOT/.packages"
}

copy_settings() {
    cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
    cp -L /etc/hosts "$ROOT/etc/hosts"
    if [ -r /etc/ssl/certs/ca-certificates.crt ]; then
        cp -L /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
    fi
    [ -r /etc/pip.conf ] && cp -L /etc/pip.conf "$ROOT/etc/pip.conf"
    if [ -d /etc/xdg/pip ]; then
        mkdir -p "$ROOT/etc/xdg"
        rm -rf "$ROOT/etc/xdg/pip"
        cp -rL /etc/xdg/pip "$ROOT/etc/xdg/pip"
    fi
    return 0
}

MOUNTED=""
mount_once() {  # mount_once TARGET MOUNT-ARGS...: mount unless mounted, unmount on exit
    target=$1
    shift
    mkdir -p "$target"
    if ! mountpoint -q "$target"; then
        mount "$@" "$target"
        MOUNTED="$target $MOUNTED"
    fi
}
unmount_all() {
    for target in $MOUNTED; do
        umount -l "$target" || true
    done
}

inside() {  # run a command in the root, in /project, with a clean environment
    env -i HOME=/root LANG=C.UTF-8 PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin \
        PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
        PIP_DEFAULT_TIMEOUT="${PIP_DEFAULT_TIMEOUT:-60}" CI="${CI:-}" TERM="${TERM:-dumb}" \
        "$CHROOT" "$ROOT" /bin/sh -c 'cd /project && exec "$@"' sh "$@"
}

make_venv() {
    # the project and its extras in /opt/venv; again only when pyproject.toml changes
    stamp=$(sha256sum "$PROJECT/pyproject.toml" | cut -d' ' -f1)
    [ "$(cat "$ROOT/opt/venv/.installed" 2>/dev/null)" = "$stamp" ] && return
    say "installing the project into the root's venv (/opt/venv)"
    [ -x "$ROOT/opt/venv/bin/python" ] || inside python3.14 -m venv /opt/venv
    inside python -m pip install -q --upgrade pip >&2
    inside python -m pip install -q -e ".[$EXTRAS]" nox >&2
    echo "$stamp" > "$ROOT/opt/venv/.installed"
}

make_root
copy_settings
trap unmount_all EXIT INT TERM HUP
mount_once "$ROOT/proc" -t proc proc
mount_once "$ROOT/sys" -t sysfs sysfs
mount_once "$ROOT/dev/shm" -t tmpfs tmpfs
mount_once "$ROOT/project" --bind "$PROJECT"
add_packages
make_venv
if [ $# -eq 0 ]; then
    say "ready: $(inside python --version) in $ROOT; run a command with: $0 COMMAND"
else
    inside "$@"
fi
