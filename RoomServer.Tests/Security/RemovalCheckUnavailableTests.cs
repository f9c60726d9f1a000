using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.DependencyInjection;
using RoomShare.RoomServer.Hubs;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Security;

/// <summary>
/// A member token is checked against the member's removal generation (DESIGN.md §3). When the store
/// cannot answer that lookup, the hub still admits the connection — every room script checks the removal
/// again — but the HTTP API's member reads have no second check: they used to hand the room and its audit
/// trail to whoever held the token, a removed member too. They answer <c>unavailable</c> now.
/// </summary>
[Trait("Suite", "Contract")]
public sealed class RemovalCheckUnavailableTests(RemovalCheckUnavailableTests.FailingLookupServer server)
    : IClassFixture<RemovalCheckUnavailableTests.FailingLookupServer>
{
    [Theory]
    [InlineData("/api/rooms/{room}")]
    [InlineData("/api/rooms/{room}/events")]
    public async Task AMemberReadWhoseRemovalCannotBeCheckedIsUnavailable(string path)
    {
        var room = await server.CreateRoomAsync();
        var token = await server.TokenAsync(room, "bob");
        using var member = new HttpClient { BaseAddress = server.BaseUrl };
        member.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var uri = new Uri(path.Replace("{room}", room.Id, StringComparison.Ordinal), UriKind.Relative);

        (await member.GetAsync(uri)).StatusCode.Should().Be(HttpStatusCode.OK, "the lookup answers: the token is checked and admitted");

        server.LookupFails = true;
        try
        {
            using var refused = await member.GetAsync(uri);
            refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "a member the store cannot vouch for gets nothing of the room");
            (await refused.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be(RoomErrorCodes.Unavailable);

            // The hub admits (its scripts check the removal themselves), and the API key is no member token.
            await using var connection = await server.ConnectAsync(token);
            (await connection.InvokeAsync<JoinResult>("Join", room.Id, null)).Snapshot.Should().NotBeNull();
            (await server.Api.GetAsync(uri)).StatusCode.Should().Be(HttpStatusCode.OK);
        }
        finally
        {
            server.LookupFails = false;
        }
    }

    /// <summary>Embedded mode whose removal-generation lookup fails (as when Redis is away) while <see cref="LookupFails"/> is set.</summary>
    public sealed class FailingLookupServer : ContractServer
    {
        private int _failing;

        public bool LookupFails
        {
            get => Volatile.Read(ref _failing) == 1;
            set => Volatile.Write(ref _failing, value ? 1 : 0);
        }

        protected override Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync() =>
            Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());

        protected override Task StopBackingServicesAsync() => Task.CompletedTask;

        protected override void ConfigureServices(IServiceCollection services)
        {
            var original = services.Last(d => d.ServiceType == typeof(IRoomStore));
            var storeType = original.ImplementationType
                ?? throw new InvalidOperationException("the server registers IRoomStore by type");
            services.Remove(original);
            services.AddSingleton(storeType);
            services.AddSingleton(sp => FailingLookupStore.Create((IRoomStore)sp.GetRequiredService(storeType), this));
        }
    }

    /// <summary>The store, with <see cref="IRoomStore.RemovalGenerationAsync"/> failing on request (a proxy: one member of many matters).</summary>
    // Not sealed: DispatchProxy derives the proxy type from it.
    public class FailingLookupStore : DispatchProxy
    {
        private IRoomStore _store = null!;
        private FailingLookupServer _server = null!;

        public static IRoomStore Create(IRoomStore store, FailingLookupServer server)
        {
            var proxy = Create<IRoomStore, FailingLookupStore>();
            var failing = (FailingLookupStore)(object)proxy;
            failing._store = store;
            failing._server = server;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == nameof(IRoomStore.RemovalGenerationAsync) && _server.LookupFails)
            {
                return Task.FromException<long>(RoomException.Unavailable("the store is away (test)"));
            }

            try
            {
                return targetMethod.Invoke(_store, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                ExceptionDispatchInfo.Throw(ex.InnerException);
                throw;
            }
        }
    }
}
