using Microsoft.AspNetCore.Http.HttpResults;
using RoomShare.RoomServer.Auth;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// Development only: <c>POST /demo/rooms</c> creates a room with a sample menu and returns join links
/// for a few members, so a newcomer has something to open. Not mapped in other environments.
/// </summary>
public static class DemoEndpoints
{
    public sealed record DemoLink(string MemberId, string DisplayName, string Role, string Url);

    public sealed record DemoRoom(string RoomId, IReadOnlyList<DemoLink> Links);

    private static readonly CreateRoomRequest SampleRoom = new(
        "Demo table",
        [
            new("margherita", "Pizza Margherita", 1150),
            new("carbonara", "Spaghetti Carbonara", 1380),
            new("caesar", "Caesar Salad", 950),
            new("tiramisu", "Tiramisu", 650),
            new("lemonade", "Homemade Lemonade", 420),
        ],
        120);

    private static readonly (string Id, string Name, string Role)[] SampleMembers =
    [
        ("alex", "Alex", RoomClaims.OwnerRole),
        ("sam", "Sam", RoomClaims.MemberRole),
        ("kim", "Kim", RoomClaims.MemberRole),
    ];

    public static WebApplication MapDemo(this WebApplication app)
    {
        if (app.Environment.IsDevelopment())
        {
            app.MapPost("/demo/rooms", CreateDemoRoom).ExcludeFromDescription();
        }

        return app;
    }

    private static async Task<Ok<DemoRoom>> CreateDemoRoom(RoomCreator creator, TokenIssuer issuer, CancellationToken cancellationToken)
    {
        var room = await creator.CreateAsync(SampleRoom, apiKeyId: null, idempotencyKey: null, cancellationToken);
        var links = SampleMembers
            .Select(m => new DemoLink(m.Id, m.Name, m.Role, $"/#room={room.RoomId}&token={issuer.Issue(room.RoomId, m.Id, m.Name, m.Role, removalGeneration: 0).Token}"))
            .ToList();
        return TypedResults.Ok(new DemoRoom(room.RoomId, links));
    }
}
