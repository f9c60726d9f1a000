namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>Embedded mode: no configuration, in-memory store and in-process fan-out.</summary>
public sealed class EmbeddedContractServer : ContractServer
{
    protected override Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());

    protected override Task StopBackingServicesAsync() => Task.CompletedTask;
}
