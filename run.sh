#!/usr/bin/env bash
# Installs what is missing, builds, and starts Hexsphere.
#   ./run.sh [client options]     host a game and play it (the default)
#   ./run.sh --server [options]   start the dedicated server instead
#   ./run.sh --help               this text and the options of both programs
set -euo pipefail
cd "$(dirname "$0")"

mode=client
if [ "${1:-}" = "--server" ]; then
    mode=server
    shift
elif [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    mode=help
fi

if [ "$mode" = client ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] \
    && [ -z "${QT_QPA_PLATFORM:-}" ]; then
    echo "run.sh: no display found; to start a dedicated server instead run: ./run.sh --server" >&2
    exit 2
fi

tools/install-deps.sh
tools/build.sh

case "$mode" in
    server) exec build/bin/hexsphere-server "$@" ;;
    help)
        sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
        echo
        build/bin/hexsphere --help
        echo
        build/bin/hexsphere-server --help
        ;;
    client)
        # Host-and-play unless the player asked to join a server.
        case " $* " in
            *" --connect "*|*" --connect="*) exec build/bin/hexsphere "$@" ;;
            *) exec build/bin/hexsphere --host "$@" ;;
        esac
        ;;
esac
