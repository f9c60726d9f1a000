using RoomShare.RoomServer.Api;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Logging;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Orders;

var builder = WebApplication.CreateBuilder(args);

builder.AddRoomServerOptions();
builder.AddForwardedClients();
builder.AddRoomStorage();
builder.AddRoomAuth();
builder.AddRoomHub();
builder.AddRoomApi();
builder.AddRoomMetrics();
builder.AddRoomRequestLogging();
builder.AddOrderHandoff();

var app = builder.Build();

app.UseForwardedHeaders();
app.UseRoomRequestLogging();
app.UseExceptionHandler();
app.UseStatusProblems();
app.UseApiRateLimits();
app.UseDrainGate();
app.UseHubOrigins();
app.UseWebClient();
app.UseAuthentication();
app.UseAuthorization();
app.UseRemovalCheckGate();
app.UseKnownRequestCharsets();
app.UseMemberConnectLimits();
app.UseConnectionOwnerCheck();
app.UseHubRefusalProblems();

app.MapHealth();
app.MapRoomMetrics();
app.MapRoomsApi();
app.MapAuditApi();
app.MapOrdersApi();
app.MapRoomHub();
app.MapOpenApi("/openapi/v1.json"); // the one document: another name is an unknown path (a 404 problem), not the handler's text
app.MapApiReference();
app.MapDemo();

var exit = app.Services.GetRequiredService<ReplicaExit>(); // resolved now: the container is gone once Run returns
app.Run();
return exit.Code;

/// <summary>The entry point, public for WebApplicationFactory-based tests.</summary>
public partial class Program;
