using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace RoomShare.RoomServer.Rooms;

/// <summary>
/// Validation of every identifier that ends up inside a Redis key, channel or hash field. Ids are
/// checked before any key is built (STYLE: never build a key from unvalidated input), and none may
/// contain ':' because choice and presence fields are "memberId:menuId" (and the rate hash's own field
/// ":until" beside the members' buckets, prelude.lua take_member_op). Each rule and its one
/// wording live here; the edges (hub arguments, HTTP requests, Redis keys) call the Require methods.
/// </summary>
public static partial class RoomIds
{
    public const int MaxLength = 64;

    private const string RoomOrMenuIdRule = "1-64 characters of A-Z a-z 0-9 _ -";
    private const string MemberIdRule = "1-64 characters of A-Z a-z 0-9 _ . @ -, not \".\" or \"..\"";

    // Anchored with \z, never $: in .NET "$" also matches before a final "\n", which let "room\n" through.
    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex RoomOrMenuIdPattern();

    // "." and ".." are dot segments in a URL path: clients and Kestrel resolve them away, so
    // DELETE /api/rooms/{id}/members/.. would reach DELETE /api/rooms/{id}/ — the room.
    [GeneratedRegex("^(?!\\.{1,2}\\z)[A-Za-z0-9_.@-]{1,64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex MemberIdPattern();

    [GeneratedRegex("^[\\x21-\\x7E]{1,64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex OpIdPattern();

    public static bool IsValidRoomId([NotNullWhen(true)] string? value) => value is not null && RoomOrMenuIdPattern().IsMatch(value);

    public static bool IsValidMenuId(string? value) => value is not null && RoomOrMenuIdPattern().IsMatch(value);

    public static bool IsValidMemberId([NotNullWhen(true)] string? value) => value is not null && MemberIdPattern().IsMatch(value);

    /// <summary>The room id, or <c>invalid_argument</c>: wherever a room id comes from, it is refused in these words.</summary>
    public static string RequireRoomId(string? value) =>
        IsValidRoomId(value) ? value! : throw RoomException.Invalid($"roomId must be {RoomOrMenuIdRule}");

    /// <summary>The member id, or <c>invalid_argument</c>.</summary>
    public static string RequireMemberId(string? value) =>
        IsValidMemberId(value) ? value! : throw RoomException.Invalid($"memberId must be {MemberIdRule}");

    /// <summary>A menu item id being defined (a new room's menu), or <c>invalid_argument</c> naming <paramref name="field"/>.</summary>
    public static string RequireMenuId(string? value, string field) =>
        IsValidMenuId(value) ? value! : throw RoomException.Invalid($"{field} must be {RoomOrMenuIdRule}");

    /// <summary>
    /// The HTTP API's <c>Idempotency-Key</c> header (Api/IdempotencyKeys), or <c>invalid_argument</c> naming it:
    /// it goes into a Redis key, so it follows the room id's rule.
    /// </summary>
    public static string RequireIdempotencyKey(string? value) =>
        IsValidRoomId(value) ? value! : throw RoomException.Invalid($"the Idempotency-Key header must be {RoomOrMenuIdRule}");

    /// <summary>Printable ASCII without spaces, 1–64 characters: an opId is an opaque client token.</summary>
    public static bool IsValidOpId(string? value) => value is not null && OpIdPattern().IsMatch(value);

    /// <summary>A new room id: 16 characters of a URL-safe alphabet (~95 bits), unguessable.</summary>
    public static string NewRoomId() => RandomToken(16);

    /// <summary>A new epoch: changes whenever a room is (re)created, so old positions are recognised.</summary>
    public static string NewEpoch() => RandomToken(12);

    private static string RandomToken(int length)
    {
        const string alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return RandomNumberGenerator.GetString(alphabet, length);
    }
}
