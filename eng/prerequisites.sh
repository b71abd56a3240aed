#!/usr/bin/env bash
# Shared by run.sh and test.sh: make sure PostgreSQL and RabbitMQ can be started on this machine.
# With a container runtime that answers, nothing is installed (the AppHost and tests use containers).
# Otherwise the Debian packages 'postgresql' and 'rabbitmq-server' are installed when missing; we say so.

te_say() { printf '[tradeengine] %s\n' "$*"; }

te_container_runtime() {
  if [ "${TRADEENGINE_LOCAL_SERVERS:-}" = "true" ]; then return 1; fi
  command -v docker >/dev/null 2>&1 && timeout 5 docker info >/dev/null 2>&1
}

te_as_root() {
  if [ "$(id -u)" = "0" ]; then "$@"; else sudo "$@"; fi
}

te_ensure_servers() {
  if te_container_runtime; then
    te_say "A container runtime answers: PostgreSQL and RabbitMQ will run as containers."
    return 0
  fi
  local missing=()
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
  if [ ${#missing[@]} -eq 0 ]; then
    te_say "No container runtime; using the installed PostgreSQL and RabbitMQ servers."
    return 0
  fi
  te_say "No container runtime and missing: ${missing[*]}. Installing them with apt-get (Debian packages)..."
  export DEBIAN_FRONTEND=noninteractive
  te_as_root apt-get update -qq
  # policy-rc.d keeps the packages from starting system-wide services: we run our own throwaway instances. A policy
  # the machine already has is put back afterwards, and ours never outlives the install, even a failed one.
  local policy=/usr/sbin/policy-rc.d saved="" status=0
  if te_as_root test -e "$policy"; then
    saved="$policy.tradeengine-saved"
    te_as_root mv -f "$policy" "$saved"
  fi
  printf '#!/bin/sh\nexit 101\n' | te_as_root tee "$policy" >/dev/null
  te_as_root chmod +x "$policy"
  te_as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  te_as_root rm -f "$policy"
  if [ -n "$saved" ]; then te_as_root mv -f "$saved" "$policy"; fi
  if [ "$status" -ne 0 ]; then
    te_say "apt-get install ${missing[*]} failed (exit $status)."
    return "$status"
  fi
  te_say "Installed: ${missing[*]}."
}
