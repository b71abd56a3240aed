using TradeEngine.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);

// Containers when a container runtime answers; otherwise the local Debian servers as executables. Either way the data
// outlives the AppHost, as the simulator's state does: the Ledger is the system of record (positions, the kill switch,
// peak and day-start equity), and a container without a volume took it with it when the AppHost stopped, so a restart
// found the kill switch off and the drawdown measured from a new peak. The containers' generated passwords are kept in
// the AppHost's user secrets, so a restart reaches the same volume with the same password.
var useContainers = ContainerRuntime.IsAvailable(builder.Configuration);
IResourceBuilder<IResourceWithConnectionString> ledgerdb = useContainers
    ? builder.AddPostgres("postgres").WithDataVolume().AddDatabase("ledgerdb")
    : builder.AddLocalPostgres("ledgerdb");
IResourceBuilder<IResourceWithConnectionString> eventbus = useContainers
    ? builder.AddRabbitMQ("eventbus").WithDataVolume()
    : builder.AddLocalRabbitMq("eventbus");

var venue = builder.AddVenue();

// The secret an operator presents (gRPC metadata x-operator-key) to reset the kill switch. One key, both services: Risk
// checks it on ResetKillSwitch and forwards it, and the Ledger, which holds the switch, checks it again on the reset
// (so that the Ledger's SetKillSwitch is no way around Risk); without it either refuses every reset. Generated for each
// run unless Parameters:killswitch-operator-key is configured; the dashboard shows it among the parameters.
var operatorKey = builder.AddParameter("killswitch-operator-key", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);

// The secret every call between our services carries (gRPC metadata x-service-key): a service refuses to start without
// it and answers no call without it (the health service aside), so a process that reaches a port cannot open positions,
// write the Ledger or latch the kill switch. Generated for each run unless Parameters:service-key is configured.
var serviceKey = builder.AddParameter("service-key", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
const string ServiceKeyVariable = "TradeEngine__ServiceKey";

var ledger = builder.AddProject<Projects.TradeEngine_Ledger>("ledger")
    .WithEnvironment(ServiceKeyVariable, serviceKey)
    .WithEnvironment("Ledger__KillSwitch__OperatorKey", operatorKey)
    .WithReference(ledgerdb).WaitFor(ledgerdb)
    .WithReference(eventbus).WaitFor(eventbus)
    .WithGrpcHealthCheck();

var funding = builder.AddProject<Projects.TradeEngine_Funding>("funding")
    .WithEnvironment(ServiceKeyVariable, serviceKey)
    .WithVenue(venue)
    .WithReference(ledger).WaitFor(ledger)
    .WithReference(eventbus).WaitFor(eventbus)
    .WithGrpcHealthCheck();

var risk = builder.AddProject<Projects.TradeEngine_Risk>("risk")
    .WithEnvironment(ServiceKeyVariable, serviceKey)
    .WithVenue(venue)
    .WithEnvironment("Risk__KillSwitch__OperatorKey", operatorKey)
    .WithReference(ledger).WaitFor(ledger)
    .WithReference(funding)
    .WithReference(eventbus).WaitFor(eventbus)
    .WithGrpcHealthCheck();

var execution = builder.AddProject<Projects.TradeEngine_Execution>("execution")
    .WithEnvironment(ServiceKeyVariable, serviceKey)
    .WithVenue(venue)
    .WithReference(risk).WaitFor(risk)
    .WithReference(funding).WaitFor(funding)
    .WithReference(ledger).WaitFor(ledger)
    .WithReference(eventbus).WaitFor(eventbus)
    .WithGrpcHealthCheck();

// The margin monitor reads the account and positions from Execution.
risk.WithReference(execution);

// The plan's integration example: runs once the services are healthy (open 0.001 BTCUSDT 3x, a margin-health read,
// close, PnL). Only against the simulator: with a real venue configured it would place real orders on every start (and
// on every restart from the dashboard), so it is not part of that model at all.
if (venue.Paper is not null)
{
    builder.AddProject<Projects.TradeEngine_Demo>("demo")
        .WithEnvironment(ServiceKeyVariable, serviceKey)
        .WithReference(execution).WaitFor(execution)
        .WithReference(funding).WaitFor(funding)
        .WithReference(risk).WaitFor(risk);
}

builder.Build().Run();
