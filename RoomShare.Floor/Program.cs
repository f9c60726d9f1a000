using RoomShare.Floor;

// The floor arm of the load test (RoomShare.LoadTest): a bare Kestrel WebSocket fan-out with no
// SignalR and no Redis, behind the same nginx, written plainly without tuning. Its capacity is what
// the platform itself can do, and RoomShare's capacity is reported as a fraction of it.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton<FloorRooms>();

var app = builder.Build();
app.UseWebSockets();
app.MapFloorApi();
app.MapFloorHub();
app.Run();
