using System.Text.Json;
using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;

namespace RoomShare.RoomServer.Hubs.MessagePack;

/// <summary>
/// The MessagePack hub protocol's resolver: primitives as MessagePack's built-ins write them, and
/// every other type — hub results, pushed messages, <see cref="JsonElement"/> arguments — in the
/// shape System.Text.Json gives it (camelCase, DESIGN.md §3) via <see cref="JsonMessagePack"/>. The
/// library's own contractless resolver would write PascalCase member names, a second contract.
/// </summary>
public sealed class JsonShapedResolver : IFormatterResolver
{
    public static readonly JsonShapedResolver Instance = new();

    /// <summary>The serializer options the server and its .NET clients (tests, load tool) use.</summary>
    public static readonly MessagePackSerializerOptions Options =
        MessagePackSerializerOptions.Standard.WithResolver(Instance).WithSecurity(MessagePackSecurity.UntrustedData);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private JsonShapedResolver()
    {
    }

    public IMessagePackFormatter<T>? GetFormatter<T>() => Cache<T>.Formatter;

    private static class Cache<T>
    {
        public static readonly IMessagePackFormatter<T>? Formatter =
            typeof(T) == typeof(JsonElement)
                ? (IMessagePackFormatter<T>)(object)new JsonElementFormatter()
                : BuiltinResolver.Instance.GetFormatter<T>() ?? new JsonShapedFormatter<T>();
    }

    private sealed class JsonElementFormatter : IMessagePackFormatter<JsonElement>
    {
        public void Serialize(ref MessagePackWriter writer, JsonElement value, MessagePackSerializerOptions options) =>
            JsonMessagePack.Write(ref writer, value);

        public JsonElement Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
            JsonMessagePack.Read(ref reader);
    }

    private sealed class JsonShapedFormatter<T> : IMessagePackFormatter<T>
    {
        public void Serialize(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options)
        {
            if (value is null)
            {
                writer.WriteNil();
                return;
            }

            JsonMessagePack.Write(ref writer, JsonSerializer.SerializeToElement(value, value.GetType(), Json));
        }

        public T Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
            JsonMessagePack.Read(ref reader).Deserialize<T>(Json)!;
    }
}
