using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RoomShare.RoomServer.Tests.Chaos;

/// <summary>
/// Random SignalR JSON frames for the fuzz loop, most of them wrong: garbage and control characters,
/// JSON that is no hub message, unknown message types and targets, hub calls with arguments of every
/// wrong type and count, ids built to break out of a Redis key or channel, frames past the server's
/// message limit. Some close the connection by design (DESIGN.md §5: a malformed frame or an
/// oversized message); the fuzzer reconnects and goes on. Deterministic for a seed.
/// </summary>
public static class FuzzFrames
{
    private const char RecordSeparator = '\u001e';
    private static readonly string[] Methods = ["SetChoice", "AdjustChoice", "Join", "Refresh", "SetRoomState", "RemoveMember", "Leave", "OnConnectedAsync", "Dispose", ""];

    /// <summary>
    /// In every injected id, and long enough that no id the server draws carries it by chance: "INJ" alone
    /// once turned up inside a random SignalR connection id (…PNINJHW…), failing the test for nothing.
    /// </summary>
    public const string InjectionMarker = "INJXQZ";

    /// <summary>Ids made to escape <c>rs:{id}:...</c> keys or the <c>rs:{id}:events</c> channel; each carries <see cref="InjectionMarker"/>.</summary>
    public static readonly string[] InjectedIds =
    [
        M + "}:meta", "{" + M + "}", M + ":x", "rs:{" + M + "}:events", M + "*", M + "?", M + "[a-z]", M + "\r\nFLUSHALL", M + "\0", M + " ", "../" + M,
        M + "%00", M + new string('x', 70), M + "\u202e", M + "\"}", M + "'--",
    ];

    private const string M = InjectionMarker;

    public static string Next(Random random, string roomId, int oversizeBytes)
    {
        ArgumentNullException.ThrowIfNull(random);
        return random.Next(100) switch
        {
            < 5 => Garbage(random, printable: true) + RecordSeparator,
            < 8 => Garbage(random, printable: false) + RecordSeparator,
            < 10 => Invocation("1", "SetChoice", [roomId, new string('p', oversizeBytes + random.Next(1, 20_000)), 1, null]),
            < 13 => NotAHubMessage(random) + RecordSeparator,
            < 28 => Invocation(Id(random), "No" + random.Next(1000).ToString(CultureInfo.InvariantCulture), [roomId]),
            < 60 => Invocation(Id(random), Methods[random.Next(2)], Arguments(random, roomId)),
            < 70 => Invocation(Id(random), "Join", [random.Next(3) == 0 ? Value(random) : roomId, Value(random)]),
            < 80 => Invocation(Id(random), Methods[random.Next(Methods.Length)], Injected(random, roomId)),
            < 90 => OtherMessageType(random),
            _ => Invocation(null, Methods[random.Next(Methods.Length)], Arguments(random, roomId)),
        };
    }

    private static string? Id(Random random) => random.Next(10) switch
    {
        0 => null,
        1 => new string('9', random.Next(1, 300)),
        _ => random.Next(1_000_000).ToString(CultureInfo.InvariantCulture),
    };

    private static string Invocation(string? invocationId, string target, object?[] arguments)
    {
        var message = new Dictionary<string, object?> { ["type"] = 1, ["target"] = target, ["arguments"] = arguments };
        if (invocationId is not null)
        {
            message["invocationId"] = invocationId;
        }

        return JsonSerializer.Serialize(message) + RecordSeparator;
    }

    private static object?[] Arguments(Random random, string roomId)
    {
        var count = random.Next(0, 7);
        var arguments = new object?[count];
        for (var i = 0; i < count; i++)
        {
            arguments[i] = i == 0 && random.Next(2) == 0 ? roomId : Value(random);
        }

        return arguments;
    }

    private static object?[] Injected(Random random, string roomId)
    {
        var id = InjectedIds[random.Next(InjectedIds.Length)];
        return random.Next(3) switch
        {
            0 => [id, "pizza", 1, "op"],
            1 => [roomId, id, 1, id],
            _ => [roomId, id],
        };
    }

    /// <summary>A JSON value of any type, some of them huge or deep.</summary>
    private static object? Value(Random random) => random.Next(14) switch
    {
        0 => null,
        1 => random.Next(),
        2 => -random.Next(),
        3 => long.MaxValue,
        4 => random.NextDouble() * 1e300,
        5 => random.Next(2) == 0,
        6 => Garbage(random, printable: true),
        7 => new string('x', random.Next(1, 4000)),
        8 => new[] { 1, 2, 3 },
        9 => new Dictionary<string, object?> { ["epoch"] = Garbage(random, printable: true), ["version"] = random.Next(-5, 5) },
        10 => new Dictionary<string, object?> { ["epoch"] = null, ["version"] = "NaN" },
        11 => Deep(random.Next(1, 60)),
        12 => "pizza",
        _ => random.Next(-3, 120),
    };

    private static object Deep(int depth)
    {
        object value = 1;
        for (var i = 0; i < depth; i++)
        {
            value = new object[] { value };
        }

        return value;
    }

    private static string NotAHubMessage(Random random) => random.Next(8) switch
    {
        0 => "{}",
        1 => "[]",
        2 => "42",
        3 => "null",
        4 => "{\"type\":\"one\"}",
        5 => "{\"type\":1,\"target\":5,\"arguments\":{}}",
        6 => "{\"type\":1,\"target\":\"SetChoice\",\"arguments\":[1,2,3,",
        _ => "{\"type\":" + random.Next(-100, 100).ToString(CultureInfo.InvariantCulture) + "}",
    };

    private static string OtherMessageType(Random random)
    {
        var type = random.Next(2, 12); // types a client should not send (stream items, completions, close, ack, sequence...) and unknown ones
        var message = new Dictionary<string, object?>
        {
            ["type"] = type,
            ["invocationId"] = Id(random),
            ["item"] = Value(random),
            ["result"] = Value(random),
            ["error"] = random.Next(2) == 0 ? Garbage(random, printable: true) : null,
        };
        return JsonSerializer.Serialize(message) + RecordSeparator;
    }

    private static string Garbage(Random random, bool printable)
    {
        var length = random.Next(1, 400);
        var text = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            text.Append(printable ? (char)random.Next(0x20, 0x7f) : (char)random.Next(0x01, 0xd7ff));
        }

        return text.ToString().Replace(RecordSeparator, ' ');
    }
}
