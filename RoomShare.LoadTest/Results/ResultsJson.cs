using System.Text.Json;
using System.Text.Json.Serialization;

namespace RoomShare.LoadTest.Results;

/// <summary>results.json: the whole run, camelCase, enums as names; rewritten after every arm so a crash keeps what was measured.</summary>
public static class ResultsJson
{
    public const string FileName = "results.json";

    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static async Task WriteAsync(string directory, RunResult result)
    {
        var path = Path.Combine(directory, FileName);
        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, result, Options);
    }
}
