using RoomShare.LoadTest.Population;

namespace RoomShare.LoadTest.Measure;

/// <summary>A process's resident-memory growth shared out over the connections that caused it, in KiB.</summary>
public static class RssPerConnection
{
    /// <summary>
    /// (<paramref name="afterBytes"/> − <paramref name="beforeBytes"/>) ÷ <paramref name="connections"/>, to 0.1 KiB; null when
    /// either reading is missing or no connection joined (there is nothing to share out).
    /// </summary>
    public static double? Kb(long? beforeBytes, long? afterBytes, int connections) =>
        beforeBytes is { } before && afterBytes is { } after && connections > 0
            ? Math.Round((after - before) / 1024.0 / connections, 1)
            : null;

    /// <summary>
    /// The members a connecting round put on each server process. With one process every member is on it, whatever
    /// name its replies give (the floor's say "floor", the process is measured as "r1").
    /// </summary>
    public static Dictionary<string, int> JoinedOn(IReadOnlyList<string> servers, ConnectReport round) =>
        servers.ToDictionary(
            name => name,
            name => servers.Count == 1 ? round.Joined : round.PerReplica.GetValueOrDefault(name),
            StringComparer.Ordinal);

    /// <summary>Each server process's growth between two readings ÷ the members that joined on it in between.</summary>
    public static Dictionary<string, double?> ByServer(
        IReadOnlyDictionary<string, int> joinedOn, IReadOnlyDictionary<string, long?> before, IReadOnlyDictionary<string, long?> after) =>
        joinedOn.ToDictionary(
            server => server.Key,
            server => Kb(before.GetValueOrDefault(server.Key), after.GetValueOrDefault(server.Key), server.Value),
            StringComparer.Ordinal);
}
