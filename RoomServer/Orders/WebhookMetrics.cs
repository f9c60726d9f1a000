using System.Diagnostics.Metrics;
using RoomShare.RoomServer.Metrics;

namespace RoomShare.RoomServer.Orders;

/// <summary>
/// Webhook delivery in the <c>RoomShare</c> meter (DESIGN.md §9): <c>roomshare_webhook_deliveries_total</c>
/// by outcome — <c>delivered</c> (an endpoint took a record), <c>failed</c> (one attempt failed),
/// <c>retried</c> (another attempt was scheduled), <c>dead</c> (the record was dead-lettered), <c>unreadable</c>
/// (a record no replica could read was dead-lettered, once per endpoint). The meter
/// factory hands out the one <c>RoomShare</c> meter, so this is exported with the rest.
/// </summary>
public sealed class WebhookMetrics
{
    private readonly Counter<long> _deliveries;

    public WebhookMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(RoomMetrics.MeterName);
        _deliveries = meter.CreateCounter<long>("roomshare.webhook.deliveries", "{delivery}", "Webhook delivery attempts and their outcomes: delivered, failed, retried, dead, unreadable");

        // Every outcome from start-up, at 0: an alert on the rate of dead letters has a series before the first one.
        foreach (var outcome in Outcomes)
        {
            _deliveries.Add(0, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    public static readonly string[] Outcomes = ["delivered", "failed", "retried", "dead", "unreadable"];

    public void Delivered() => Count("delivered");

    public void AttemptFailed() => Count("failed");

    public void Retried() => Count("retried");

    public void DeadLettered() => Count("dead");

    public void Unreadable() => Count("unreadable");

    private void Count(string outcome) => _deliveries.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
