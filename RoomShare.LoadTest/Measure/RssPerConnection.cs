namespace RoomShare.LoadTest.Measure;

/// <summary>A process's resident-memory growth shared out over the connections that caused it, in KB (1 024 bytes).</summary>
public static class RssPerConnection
{
    /// <summary>
    /// (<paramref name="afterBytes"/> − <paramref name="beforeBytes"/>) ÷ <paramref name="connections"/>, to 0.1 KB; null when
    /// either reading is missing or no connection joined (there is nothing to share out).
    /// </summary>
    public static double? Kb(long? beforeBytes, long? afterBytes, int connections) =>
        beforeBytes is { } before && afterBytes is { } after && connections > 0
            ? Math.Round((after - before) / 1024.0 / connections, 1)
            : null;
}
