#!/bin/sh
# Debian unstable's Pythons (3.14, 3.15) in a root of their own, to run this project's tests
# and study on them.
#
#   tools/debian-python.sh VERSION                 make the root and the project's venv for
#                                                  Python VERSION (3.14 or 3.15) in it (once)
#   tools/debian-python.sh VERSION COMMAND [ARG...] run COMMAND in the project folder inside
#                                                  the root, that venv's python first on PATH
#
# Debian 12 has neither and unstable's binaries need a newer C library, so
# they run in a root of their own: debootstrap --variant=minbase from the
# machine's Debian mirror, signatures checked against the machine's archive
# keyring (gpgv), into $MAPREDUCE_DEBIAN_ROOT (default ~/.cache/mapreduce-study/
# debian-root), outside the repository and reused by later runs; each version
# has its venv there, /opt/venv-VERSION.  Each run mounts /proc, /sys and
# /dev/shm in it (process pools need them) and the project at /project, and
# copies in the machine's name resolution, CA certificates and pip settings
# (pip fails on certificate checks without them); the mounts, and a /tmp of
# its own, are in a mount namespace of the run's own (unshare), so that runs
# side by side do not meet and nothing stays mounted after.  It removes
# nothing outside its own folder.  It needs root
# (debootstrap, chroot, mount); with a Python of your own, run
# `nox -s tests-VERSION` instead.
set -eu

VERSIONS="3.14 3.15"
ROOT=${MAPREDUCE_DEBIAN_ROOT:-$HOME/.cache/mapreduce-study/debian-root}
PROJECT=$(cd "$(dirname "$0")/.." && pwd)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
PACKAGES=python3.14,python3.14-venv,python3.15,python3.15-venv,ca-certificates,git
EXTRAS=dev,dask,plots

say() { echo "debian-python: $*" >&2; }
fail() { say "error: $*"; exit 1; }

VERSION=${1:-}
case " $VERSIONS " in
    *" $VERSION "*) shift ;;
    *) fail "the first argument is the Python version, one of: $VERSIONS (got '$VERSION')" ;;
esac
VENV=/opt/venv-$VERSION
[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, chroot and mount); with a Python $VERSION of your own, run: nox -s tests-$VERSION"
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
    say "making a Debian unstable root with Python $(echo "$VERSIONS" | sed 's/ / and /') in $ROOT (a few minutes, once)"
    if [ -e "$ROOT" ]; then  # an empty folder made for it is taken; anything else is kept
        rmdir "$ROOT" 2>/dev/null \
            || fail "$ROOT is not an empty folder nor a root this script made: move it, or set MAPREDUCE_DEBIAN_ROOT to another"
    fi
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

inside() {  # run a command in the root, in /project, with a clean environment
    env -i HOME=/root LANG=C.UTF-8 PATH=$VENV/bin:/usr/local/bin:/usr/bin:/bin \
        PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
        PIP_DEFAULT_TIMEOUT="${PIP_DEFAULT_TIMEOUT:-60}" CI="${CI:-}" TERM="${TERM:-dumb}" \
        "$CHROOT" "$ROOT" /bin/sh -c 'cd /project && exec "$@"' sh "$@"
}

make_venv() {
    # the project and its extras in the version's venv; again only when pyproject.toml changes
    stamp=$(sha256sum "$PROJECT/pyproject.toml" | cut -d' ' -f1)
    [ "$(cat "$ROOT$VENV/.installed" 2>/dev/null)" = "$stamp" ] && return
    say "installing the project into the root's venv for Python $VERSION ($VENV)"
    [ -x "$ROOT$VENV/bin/python" ] || inside "python$VERSION" -m venv "$VENV"
    inside python -m pip install -q --upgrade pip >&2
    inside python -m pip install -q -e ".[$EXTRAS]" nox >&2
    echo "$stamp" > "$ROOT$VENV/.installed"
}

if [ -z "${DEBIAN_PYTHON_MOUNTS:-}" ]; then
    # a mount namespace of its own: what it mounts is this run's alone, and goes with it
    command -v unshare >/dev/null || fail "needs unshare (util-linux)"
    DEBIAN_PYTHON_MOUNTS=1 exec unshare --mount --propagation private "$0" "$VERSION" "$@"
fi
mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"
flock 9  # one run at a time makes or changes the root; any number run in it
make_root
copy_settings
for target in proc sys dev/shm tmp project; do mkdir -p "$ROOT/$target"; done
mount -t proc proc "$ROOT/proc"
mountpoint -q "$ROOT/sys" || mount -t sysfs sysfs "$ROOT/sys"  # once per root is enough
mount -t tmpfs tmpfs "$ROOT/dev/shm"
mount -t tmpfs tmpfs "$ROOT/tmp"
mount --bind "$PROJECT" "$ROOT/project"
add_packages
make_venv
flock -u 9
exec 9>&-
if [ $# -eq 0 ]; then
    say "ready: $(inside python --version) in $ROOT; run a command with: $0 $VERSION COMMAND"
else
    inside "$@"
fi
