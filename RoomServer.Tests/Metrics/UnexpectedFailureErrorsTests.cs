using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Metrics;

/// <summary>
/// A server fault that is no <see cref="RoomException"/> (a bug, an exception the store did not translate): the
/// hub call is answered with a §5 code, <c>unavailable</c> (DESIGN.md §5: "the HubException message starts with
/// <c>code:</c>", "a server error carries <c>unavailable</c>"), never SignalR's generic text, and the HTTP
/// request with the exception handler's 500 problem carrying <c>unavailable</c>; both are counted in
/// <c>roomshare_errors_total</c> (§9: errors by code), once each.
/// </summary>
[Trait("Suite", "Contract")]
public sealed class UnexpectedFailureErrorsTests(UnexpectedFailureErrorsTests.ThrowingStoreServer server)
    : IClassFixture<UnexpectedFailureErrorsTests.ThrowingStoreServer>
{
    [Fact]
    public async Task AStoreCallThatThrowsIsUnavailableOnTheHubAndOverHttpAndCountedOnEach()
    {
        var room = await server.CreateRoomAsync();
        await using var ann = await server.JoinAsync(room, "ann");
        using var errors = new MetricCollector<long>(server.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), RoomMetrics.MeterName, "roomshare.errors");

        server.Failing = true;
        try
        {
            var call = () => ann.Client.InvokeAsync("SetChoice", room.Id, "pizza", 1, "op-1");
            var error = (await call.Should().ThrowAsync<HubErrorException>()).Which;
            error.Code.Should().Be(RoomErrorCodes.Unavailable, $"a server fault carries a §5 code, not SignalR's generic text (got: {error.ErrorText})");

            using var response = await server.Api.GetAsync(new Uri($"/api/rooms/{room.Id}", UriKind.Relative));
            response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
            (await response.Content.ReadFromJsonAsync<ProblemBody>(ContractServer.Json))!.Code.Should().Be(RoomErrorCodes.Unavailable);
        }
        finally
        {
            server.Failing = false;
        }

        var counted = errors.GetMeasurementSnapshot()
            .Select(m => ($"{m.Tags["code"]}", $"{m.Tags["edge"]}", m.Value))
            .ToList();
        counted.Should().BeEquivalentTo([(RoomErrorCodes.Unavailable, "hub", 1L), (RoomErrorCodes.Unavailable, "http", 1L)],
            "each edge counts its server error once");
        (await ann.Client.InvokeAsync<ChoiceAck>("SetChoice", room.Id, "pizza", 1, "op-1")).Version.Should().BeGreaterThan(0, "the connection survives the error");
    }

    [Fact]
    public async Task AServerFaultForAClientThatDoesNotAcceptJsonIsStillAProblemCountedAndLogged()
    {
        var room = await server.CreateRoomAsync();
        using var errors = new MetricCollector<long>(server.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), RoomMetrics.MeterName, "roomshare.errors");
        var logs = server.Services.GetFakeLogCollector();

        server.Failing = true;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/rooms/{room.Id}", UriKind.Relative));
            request.Headers.Accept.ParseAdd("text/plain");
            using var response = await server.Api.SendAsync(request);
            response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
            response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json", "a §5 error is a problem whatever the client asked for");
            (await response.Content.ReadFromJsonAsync<ProblemBody>(ContractServer.Json))!.Code.Should().Be(RoomErrorCodes.Unavailable);
        }
        finally
        {
            server.Failing = false;
        }

        errors.GetMeasurementSnapshot().Select(m => ($"{m.Tags["code"]}", $"{m.Tags["edge"]}", m.Value))
            .Should().BeEquivalentTo([(RoomErrorCodes.Unavailable, "http", 1L)], "the 500 is counted once");
        logs.GetSnapshot().Where(r => r.Level == LogLevel.Error && r.Exception is InvalidOperationException { Message: "a bug (test)" } && r.Message.Contains(room.Id, StringComparison.Ordinal))
            .Should().ContainSingle("the fault is logged once, with its exception: the framework does not log an exception a handler answered");
    }

    /// <summary>Embedded mode whose store throws an <see cref="InvalidOperationException"/> from a choice and a snapshot read while <see cref="Failing"/> is set.</summary>
    public sealed class ThrowingStoreServer : ContractServer
    {
        private int _failing;

        public bool Failing
        {
            get => Volatile.Read(ref _failing) == 1;
            set => Volatile.Write(ref _failing, value ? 1 : 0);
        }

        protected override Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync() =>
            Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());

        protected override Task StopBackingServicesAsync() => Task.CompletedTask;

        protected override void ConfigureServices(IServiceCollection services)
        {
            services.AddFakeLogging();
            RoomStoreInterceptor.Decorate(services, (_, method, _) => (method.Name, Failing) switch
            {
                (nameof(IRoomStore.ChangeChoiceAsync), true) => Task.FromException<ChoiceOutcome>(new InvalidOperationException("a bug (test)")),
                (nameof(IRoomStore.GetSnapshotAsync), true) => Task.FromException<RoomSnapshot>(new InvalidOperationException("a bug (test)")),
                _ => null,
            });
        }
    }
}
