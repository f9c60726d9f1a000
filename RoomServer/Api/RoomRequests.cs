using System.Globalization;
using System.Text;
using System.Text.Json;
using RoomShare.RoomServer.Auth;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>Validates API request bodies into domain values; every failure names the field.</summary>
public static class RoomRequests
{
    public const int MaxNameLength = 100;
    public const int MaxDisplayNameLength = 50;
    public const int MaxKindLength = 64;

    public static (string Name, IReadOnlyList<MenuItem> Menu, TimeSpan Ttl) ValidateRoom(CreateRoomRequest request, RoomServerOptions options)
    {
        var name = Text(request.Name, "name", MaxNameLength);
        if (request.Menu is null || request.Menu.Count == 0)
        {
            throw RoomException.Invalid("menu must list at least one item");
        }

        if (request.Menu.Count > options.Limits.MaxMenuItems)
        {
            throw RoomException.Invalid($"menu may list at most {options.Limits.MaxMenuItems} items");
        }

        var menu = new List<MenuItem>(request.Menu.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < request.Menu.Count; i++)
        {
            var item = request.Menu[i] ?? throw RoomException.Invalid($"menu[{i}] is missing");
            var id = RoomIds.RequireMenuId(item.Id, $"menu[{i}].id");
            if (!seen.Add(id))
            {
                throw RoomException.Invalid($"menu[{i}].id '{id}' appears twice");
            }

            if (item.PriceMinor is not { } price || price < 0 || price > MenuItem.MaxPriceMinor)
            {
                throw RoomException.Invalid($"menu[{i}].priceMinor must be an integer from 0 to {MenuItem.MaxPriceMinor}");
            }

            menu.Add(new MenuItem(id, Text(item.Name, $"menu[{i}].name", MaxNameLength), price));
        }

        var ttlMinutes = request.TtlMinutes ?? options.DefaultRoomTtlMinutes;
        if (ttlMinutes < 1 || ttlMinutes > 60 * 24 * 30)
        {
            throw RoomException.Invalid("ttlMinutes must be from 1 to 43200");
        }

        return (name, menu, TimeSpan.FromMinutes(ttlMinutes));
    }

    public static (string MemberId, string DisplayName, string Role) ValidateToken(TokenRequest request)
    {
        var memberId = RoomIds.RequireMemberId(request.MemberId);
        if (memberId == MemberOpBuckets.ApiCaller)
        {
            // Events name the HTTP API as their writer by this id (by: "api"), and its writes skip the
            // member write rate: a member of that name would pass for the API.
            throw RoomException.Invalid($"memberId '{MemberOpBuckets.ApiCaller}' is reserved for the HTTP API");
        }

        var role = request.Role ?? RoomClaims.MemberRole;
        if (!RoomClaims.IsValidRole(role))
        {
            throw RoomException.Invalid("role must be 'member' or 'owner'");
        }

        return (memberId, Text(request.DisplayName, "displayName", MaxDisplayNameLength), role);
    }

    public static (string Kind, JsonElement Payload) ValidateNotice(NoticeRequest request, RoomServerOptions options)
    {
        var kind = Text(request.Kind, "kind", MaxKindLength);
        var payload = request.Payload ?? JsonDocument.Parse("null").RootElement;
        JsonText.RequireWritable(payload, "payload");
        if (Encoding.UTF8.GetByteCount(payload.GetRawText()) > options.Limits.MaxNoticePayloadBytes)
        {
            throw new RoomException(RoomErrorCodes.PayloadTooLarge, $"payload must be at most {options.Limits.MaxNoticePayloadBytes} bytes of JSON");
        }

        return (kind, payload);
    }

    /// <summary>A kind like a notice's, and a message: not blank, no control characters, at most the configured length.</summary>
    public static (string Kind, string Message) ValidateAnnouncement(AnnouncementRequest request, RoomServerOptions options)
    {
        var kind = Text(request.Kind, "kind", MaxKindLength);
        var message = request.Message?.Trim();
        if (message?.Length > options.Limits.MaxAnnouncementLength)
        {
            throw new RoomException(RoomErrorCodes.PayloadTooLarge, $"message must be at most {options.Limits.MaxAnnouncementLength} characters");
        }

        return (kind, Text(message, "message", options.Limits.MaxAnnouncementLength));
    }

    public static string ValidateState(StateRequest request) => RoomStates.RequireSettable(request.State);

    /// <summary>Non-blank text without control characters or line breaks, trimmed, at most <paramref name="max"/> characters.</summary>
    public static string Text(string? value, string field, int max)
    {
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > max || trimmed.Any(IsControlOrLineBreak))
        {
            throw RoomException.Invalid($"{field} must be 1-{max} characters without control characters or line breaks");
        }

        return trimmed;
    }

    // The C0/C1 controls hold \n, \r and NEL; U+2028 and U+2029 are line breaks that are not controls (JavaScript ends a line there too).
    private static bool IsControlOrLineBreak(char c) =>
        char.IsControl(c) || char.GetUnicodeCategory(c) is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
}
