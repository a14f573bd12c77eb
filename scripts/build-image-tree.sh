#!/usr/bin/env bash
# The gateway's runtime tree, as the Dockerfile builds it and as CI tests it without a container
# engine (test/ops-image-tree.e2e-spec.ts): install with dev dependencies, build, prune to a
# production install, and keep only what runs.
#
#   scripts/build-image-tree.sh DEST
#
# Reads the sources next to this script (the repository, or the Docker build context), builds in
# DEST, and leaves there: package.json files, node_modules (production dependencies and the
# workspace links), dist/ of the gateway and of each workspace. Start it with
#   NODE_ENV=production node dist/apps/gateway/src/main.js   (working directory DEST)
set -euo pipefail

dest=${1:?usage: scripts/build-image-tree.sh DEST}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
if [ -n "$(ls -A "$dest")" ]; then
  echo "build-image-tree: $dest is not empty" >&2
  exit 1
fi

# What the build reads, without anything built or installed before.
tar -C "$src" --exclude=node_modules --exclude='libs/*/dist' --exclude='*.tsbuildinfo' \
  -cf - package.json package-lock.json tsconfig.json tsconfig.build.json apps libs | tar -C "$dest" -xf -

cd "$dest"
npm ci --no-audit --no-fund --loglevel=error
npm run -s build
npm prune --omit=dev --no-audit --no-fund --loglevel=error
find node_modules -mindepth 1 -maxdepth 1 -type d -empty -delete # scopes whose packages were all dev ones

# Only what runs: compiled code, production dependencies and the package.json files
# ("type": "module", the workspaces' entry points).
rm -rf apps tsconfig.json tsconfig.build.json dist/bench
find . -name '*.tsbuildinfo' -not -path './node_modules/*' -delete
for lib in libs/*/; do
  find "$lib" -mindepth 1 -maxdepth 1 ! -name dist ! -name package.json -exec rm -rf {} +
done
