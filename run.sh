#!/usr/bin/env bash
# Runs the whole system locally: the Aspire AppHost with its dashboard, PostgreSQL, RabbitMQ, PaperExchange,
# the four services and the demo. Installs PostgreSQL and RabbitMQ when there is neither Docker nor the servers.
set -euo pipefail
cd "$(dirname "$0")"
source eng/prerequisites.sh
te_require_dotnet
te_ensure_servers
te_say "Starting the AppHost. Dashboard: http://localhost:18888 (the login link with its token is printed below)."
exec dotnet run --project AppHost/TradeEngine.AppHost.csproj --launch-profile http "$@"
