using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Security;

/// <summary>
/// A hub connection keeps, for its whole life, only the claims RoomShare reads from its token — not the
/// parsed token and the bearer handler's copy of every claim (RoomClaims.Retained; several KB per idle
/// connection, docs/bench/w0-lean-principal.md) — and those claims still mean what they meant.
/// </summary>
public sealed class RetainedPrincipalTests(RetainedPrincipalTests.RecordingServer server) : IClassFixture<RetainedPrincipalTests.RecordingServer>
{
    private static readonly string[] RetainedTypes = ["sub", "room", "name", "role", "rgen", "exp"];

    [Fact]
    public async Task AnApiTokensConnectionKeepsExactlyTheClaimsRoomShareReads()
    {
        var room = await server.CreateRoomAsync();
        await using var client = await server.ConnectAsync(await server.TokenAsync(room, "ann", "owner", "Ann"));

        await client.InvokeAsync<JoinResult>("Join", room.Id, null);

        var user = server.Recorder.UserOf(room.Id, "Join");
        user.Claims.Select(c => c.Type).Should().BeEquivalentTo(RetainedTypes, "iss, aud, iat and nbf are checked at connect and never read again");
        user.FindFirst("room")!.Value.Should().Be(room.Id);
        user.FindFirst("sub")!.Value.Should().Be("ann");
        user.FindFirst("rgen")!.Value.Should().Be("0");
        long.Parse(user.FindFirst("exp")!.Value, System.Globalization.CultureInfo.InvariantCulture)
            .Should().BeGreaterThan(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

        var identity = user.Identities.Should().ContainSingle().Which;
        identity.Should().BeOfType<ClaimsIdentity>("the bearer handler's identity (IdentityModel's CaseSensitiveClaimsIdentity) holds the parsed token");
        identity.BootstrapContext.Should().BeNull();
        user.Identity!.IsAuthenticated.Should().BeTrue();
        user.Identity.Name.Should().Be("Ann", "the name claim type is still the token's name");
        user.IsInRole("owner").Should().BeTrue("the role claim type is still the token's role");
    }

    [Fact]
    public async Task ATokenMintedOutsideTheApiWithoutRgenKeepsTheOtherFiveAndStillWorks()
    {
        var room = await server.CreateRoomAsync();
        await using var client = await server.ConnectAsync(TestTokens.Mint(server.SigningKey, room.Id, "bo", "Bo"));

        await client.InvokeAsync<JoinResult>("Join", room.Id, null);
        var ack = await client.InvokeAsync<ChoiceAck>("SetChoice", room.Id, "cola", 2, null);

        ack.Quantity.Should().Be(2);
        var user = server.Recorder.UserOf(room.Id, "SetChoice");
        user.Claims.Select(c => c.Type).Should().BeEquivalentTo(RetainedTypes.Where(t => t != "rgen"));
        user.IsInRole("member").Should().BeTrue();
    }

    [Fact]
    public async Task TheRetainedClaimsAreFoundCaseSensitivelyAsTheTokenNamesThem()
    {
        var room = await server.CreateRoomAsync();
        var other = await server.CreateRoomAsync();
        var token = TestTokens.Mint(server.SigningKey, room.Id, "cy", "Cy", extraClaims: new Dictionary<string, string> { ["ROOM"] = other.Id, ["Sub"] = "mallory" });
        await using var client = await server.ConnectAsync(token);

        await client.InvokeAsync<JoinResult>("Join", room.Id, null);

        var user = server.Recorder.UserOf(room.Id, "Join");
        user.Claims.Where(c => c.Type.Equals("room", StringComparison.OrdinalIgnoreCase)).Should().ContainSingle()
            .Which.Should().Match<Claim>(c => c.Type == "room" && c.Value == room.Id, "a plain identity finds claims case-insensitively: ROOM must not come along");
        user.FindFirst("sub")!.Value.Should().Be("cy");
    }

    /// <summary>Embedded mode with a hub filter that records each call's <c>Context.User</c>.</summary>
    public sealed class RecordingServer : ContractServer
    {
        public PrincipalRecorder Recorder { get; } = new();

        protected override Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync() =>
            Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());

        protected override Task StopBackingServicesAsync() => Task.CompletedTask;

        protected override void ConfigureServices(IServiceCollection services) =>
            services.Configure<HubOptions>(o => o.AddFilter(Recorder));
    }

    /// <summary>The principal of the last call of each (room claim, hub method).</summary>
    public sealed class PrincipalRecorder : IHubFilter
    {
        private readonly ConcurrentDictionary<(string Room, string Method), ClaimsPrincipal> _users = new();

        public ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
        {
            if (invocationContext.Context.User is { } user && user.FindFirst("room")?.Value is { } room)
            {
                _users[(room, invocationContext.HubMethodName)] = user;
            }

            return next(invocationContext);
        }

        public ClaimsPrincipal UserOf(string room, string method) =>
            _users.TryGetValue((room, method), out var user)
                ? user
                : throw new InvalidOperationException($"no {method} call was recorded for room {room}");
    }
}
