#!/usr/bin/env bash
# Builds .device/: everything a run on the lent GPU machine needs, which has no Node.js and no
# registry (see ../shared/device/README.md): node, the CLI bundled into one file, dawn.node, the
# Vulkan loader and the WGSL sources. Carry ".device" and start the command with
#   bash .device/setup.sh && .device/roofcast calibrate --full --out $OUT/h100.json
set -euo pipefail
cd "$(dirname "$0")/.."
out=.device
rm -rf "$out"
mkdir -p "$out/app/bin" "$out/node_modules/webgpu/dist/linux-x64"
npx tsc -p tsconfig.json
# The bundle sits two folders below .device, as dist/cli/main.js sits below the repo, so the
# shaders resolve to .device/shaders.
npx esbuild dist/cli/main.js --bundle --platform=node --format=esm --external:webgpu \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  --log-level=warning --outfile="$out/app/bin/roofcast.mjs"
cp -r shaders "$out/shaders"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$out/node_modules/webgpu/"
xz -6 -T2 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$out/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
xz -6 -T2 -c "$(command -v node)" > "$out/node.xz"
(cd "$out" && apt-get download libvulkan1 >/dev/null 2>&1) || echo "device-bundle: could not download libvulkan1 (the GPU machine may have it)"
cat > "$out/setup.sh" <<'SETUP'
#!/usr/bin/env bash
# Unpacks node and dawn.node, installs the Vulkan loader, points Vulkan at the NVIDIA driver.
set -e
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$here/node" ] || { xz -dc "$here/node.xz" > "$here/node"; chmod +x "$here/node"; }
d="$here/node_modules/webgpu/dist/linux-x64"
[ -f "$d/dawn.node" ] || xz -dc "$d/dawn.node.xz" > "$d/dawn.node"
for f in "$here"/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
ldconfig
nv=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$nv" ] && echo "export VK_DRIVER_FILES=$nv" > "$here/env.sh" || : > "$here/env.sh"
SETUP
cat > "$out/roofcast" <<'RUN'
#!/usr/bin/env bash
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$here/env.sh" ] && . "$here/env.sh"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/roofcast-xdg}; mkdir -p "$XDG_RUNTIME_DIR"
exec "$here/node" "$here/app/bin/roofcast.mjs" "$@"
RUN
chmod +x "$out/setup.sh" "$out/roofcast"
du -sh "$out"
