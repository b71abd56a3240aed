#!/usr/bin/env bash
# Shared by run.sh and test.sh: make sure PostgreSQL and RabbitMQ can be started on this machine.
# With a container runtime that answers, nothing is installed for run.sh (the AppHost uses containers); test.sh still
# ensures the local packages (the local-server fixture tests need them).
# Otherwise the Debian packages 'postgresql' and 'rabbitmq-server' are installed when missing; we say so.

te_say() { printf '[tradeengine] %s\n' "$*"; }

# The .NET 10 SDK is the one thing these scripts do not install: said before anything is installed with apt.
te_require_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    te_say "The .NET 10 SDK (dotnet) is not on PATH; install it first (https://dot.net), then run this again." >&2
    exit 1
  fi
}

# As the AppHost decides (AppHost/Infrastructure/ContainerRuntime.cs): TradeEngine__Containers=true takes the containers,
# TRADEENGINE_LOCAL_SERVERS=true (any case) the local servers; otherwise docker or podman must answer within 5 s. (The
# AppHost also reads TradeEngine:Containers from its other configuration sources; set it in the environment for both.)
# Before, only docker was asked and only the exact "true" read, so with podman (or "TRUE") the script installed nothing
# and the AppHost then found no PostgreSQL.
te_container_runtime() {
  local local_servers="${TRADEENGINE_LOCAL_SERVERS:-}" containers="${TradeEngine__Containers:-}"
  if [ "${containers,,}" = "true" ]; then return 0; fi
  if [ "${local_servers,,}" = "true" ]; then return 1; fi
  if command -v docker >/dev/null 2>&1 && timeout 5 docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; then
    return 0
  fi
  command -v podman >/dev/null 2>&1 && timeout 5 podman info >/dev/null 2>&1
}

TE_POLICY=/usr/sbin/policy-rc.d
TE_POLICY_SAVED=/usr/sbin/policy-rc.d.tradeengine-saved
TE_POLICY_MARK="tradeengine: no services started during the install (eng/prerequisites.sh)"

# Removes our policy-rc.d (only ours: it carries the mark) and puts back a saved one.
te_restore_policy() {
  if te_as_root test -e "$TE_POLICY" && te_as_root grep -qF "$TE_POLICY_MARK" "$TE_POLICY"; then
    te_as_root rm -f "$TE_POLICY"
  fi
  if te_as_root test -e "$TE_POLICY_SAVED"; then
    te_as_root mv -f "$TE_POLICY_SAVED" "$TE_POLICY"
  fi
}

te_as_root() {
  if [ "$(id -u)" = "0" ]; then "$@"; else sudo "$@"; fi
}

# With "local" (test.sh): the local packages are ensured even where a container runtime answers, since the tests of the
# local-server fixtures start local servers whatever else the machine offers.
te_ensure_servers() {
  local why="No container runtime"
  if te_container_runtime; then
    te_say "A container runtime answers: PostgreSQL and RabbitMQ will run as containers."
    if [ "${1:-}" != "local" ]; then return 0; fi
    why="For the local-server fixture tests"
  fi
  local missing=()
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
  # ps: the test servers' watchdog lists their process tree with it to stop it after a test host killed outright (a
  # hang past --blame-hang-timeout); minimal images lack it, and the watchdog then stopped nothing.
  command -v ps >/dev/null || missing+=(procps)
  if [ ${#missing[@]} -eq 0 ]; then
    te_say "${why}; using the installed PostgreSQL and RabbitMQ servers."
    return 0
  fi
  te_say "${why}, and missing: ${missing[*]}. Installing them with apt-get (Debian packages)..."
  export DEBIAN_FRONTEND=noninteractive
  te_as_root apt-get update -qq
  # policy-rc.d keeps the packages from starting system-wide services: we run our own throwaway instances. A policy
  # the machine already has is put back afterwards, and ours never outlives the install: not after a failed install,
  # not after Ctrl+C (the trap), and a copy left by a run killed outright is put back by the next run first.
  local status=0
  te_restore_policy
  if te_as_root test -e "$TE_POLICY" && ! te_as_root grep -qF "$TE_POLICY_MARK" "$TE_POLICY"; then
    te_as_root mv -f "$TE_POLICY" "$TE_POLICY_SAVED"
  fi
  trap 'te_restore_policy; trap - INT TERM EXIT; exit 130' INT TERM
  trap 'te_restore_policy' EXIT
  printf '#!/bin/sh\n# %s\nexit 101\n' "$TE_POLICY_MARK" | te_as_root tee "$TE_POLICY" >/dev/null
  te_as_root chmod +x "$TE_POLICY"
  te_as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  te_restore_policy
  trap - INT TERM EXIT
  if [ "$status" -ne 0 ]; then
    te_say "apt-get install ${missing[*]} failed (exit $status)."
    return "$status"
  fi
  te_say "Installed: ${missing[*]}."
}
