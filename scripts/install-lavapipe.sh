#!/usr/bin/env bash
# Installs Mesa's lavapipe (software Vulkan) from Debian's bookworm-backports suite when this
# machine has no Vulkan driver. Dawn refuses Debian 12's own Mesa 22.3, so backports (Mesa 25)
# is needed. The suite is added to the existing apt source, so no host name is written here.
set -euo pipefail

has_vulkan_driver() {
  local icds
  icds=$(compgen -G '/usr/share/vulkan/icd.d/*.json'; compgen -G '/etc/vulkan/icd.d/*.json') || true
  [ -n "$icds" ] || return 1
  # Mesa 22 ships an lvp_icd too, but Dawn refuses it: require Mesa >= 25 for lavapipe.
  if ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
    local v
    v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo 0)
    dpkg --compare-versions "$v" ge 25 || return 1
  fi
  return 0
}

if has_vulkan_driver; then
  echo "install-lavapipe: a Vulkan driver is already present"
  exit 0
fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
src=/etc/apt/sources.list.d/debian.sources
if [ -f "$src" ] && ! grep -q 'bookworm-backports' "$src"; then
  $SUDO sed -i '0,/^Suites: bookworm bookworm-updates/s//Suites: bookworm bookworm-updates bookworm-backports/' "$src"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
echo "install-lavapipe: installed $(dpkg-query -W -f='mesa-vulkan-drivers ${Version}' mesa-vulkan-drivers)"
