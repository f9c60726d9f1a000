using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Orders;

/// <summary>A contract server with one webhook endpoint configured: <see cref="Receiver"/>, which this fixture starts (it answers 200).</summary>
public interface IWebhookContractServer
{
    WebhookReceiver Receiver { get; }
}

internal static class WebhookContractSettings
{
    public static Dictionary<string, string> For(WebhookReceiver receiver) => new()
    {
        ["RoomServer:Webhooks:Endpoints:0:Url"] = receiver.Url,
        ["RoomServer:Webhooks:Endpoints:0:Secret"] = receiver.Secret,
        ["RoomServer:Webhooks:PollIntervalMilliseconds"] = "200",
    };
}

public sealed class EmbeddedWebhookContractServer : ContractServer, IWebhookContractServer
{
    public WebhookReceiver Receiver { get; } = new("contract-receiver-secret-0123456789");

    protected override async Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync()
    {
        await Receiver.StartAsync();
        return WebhookContractSettings.For(Receiver);
    }

    protected override Task StopBackingServicesAsync() => Receiver.StopAsync();
}

public sealed class RedisWebhookContractServer : RedisContractServer, IWebhookContractServer
{
    public WebhookReceiver Receiver { get; } = new("contract-receiver-secret-0123456789");

    protected override async Task<IReadOnlyDictionary<string, string>> StartBackingServicesAsync()
    {
        await Receiver.StartAsync();
        var settings = WebhookContractSettings.For(Receiver);
        foreach (var (key, value) in await base.StartBackingServicesAsync())
        {
            settings[key] = value;
        }

        return settings;
    }

    protected override async Task StopBackingServicesAsync()
    {
        await base.StopBackingServicesAsync();
        await Receiver.StopAsync();
    }
}
