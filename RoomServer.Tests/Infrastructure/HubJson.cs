using System.Text.Json;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// How both hub clients turn what the server sent into <see cref="JsonElement"/>s, and results into
/// typed values, so a test reads the same thing whichever client it uses.
/// </summary>
internal static class HubJson
{
    private static readonly JsonElement Null = JsonDocument.Parse("null").RootElement.Clone();
    private static readonly JsonSerializerOptions ResultOptions = new(JsonSerializerDefaults.Web);

    /// <summary>A bound value as an element; anything else (a JSON null the binder left as null) as JSON null.</summary>
    public static JsonElement AsElement(object? value) => value is JsonElement element ? element : Null;

    /// <summary>What an inbox records for one invocation of a target: its argument, or a JSON array when it sent 0 or several.</summary>
    public static JsonElement FromArguments(object?[] arguments) =>
        arguments.Length == 1
            ? AsElement(arguments[0])
            : JsonSerializer.SerializeToElement(arguments.Select(AsElement).ToArray());

    /// <summary>A hub method's result deserialized with web (camelCase) defaults; a null result fails naming the method.</summary>
    public static T Deserialize<T>(string method, JsonElement result) =>
        result.Deserialize<T>(ResultOptions)
            ?? throw new InvalidOperationException($"'{method}' returned {result.GetRawText()}, not a {typeof(T).Name}");
}
