using System.Net;
using RoomShare.RoomServer.Api;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// Requests without an API key share a bucket per client address; an IPv6 client's is its /64, since
/// one host holds a whole /64 and may send from any address in it.
/// </summary>
public sealed class AddressPartitionTests
{
    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:ffff:eeee:dddd:cccc", "2001:db8:1:2::/64")]
    [InlineData("::1", "::/64")]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    public void AnAddressFallsInItsBucket(string address, string bucket) =>
        ApiRateLimiting.AddressPartition(IPAddress.Parse(address)).Should().Be(bucket);

    [Fact]
    public void TwoAddressesOfOneIpv6HostShareABucketAndAnotherNetworkHasItsOwn()
    {
        var host = ApiRateLimiting.AddressPartition(IPAddress.Parse("2001:db8:1:2::10"));

        ApiRateLimiting.AddressPartition(IPAddress.Parse("2001:db8:1:2:abcd::99")).Should().Be(host);
        ApiRateLimiting.AddressPartition(IPAddress.Parse("2001:db8:1:3::10")).Should().NotBe(host);
        ApiRateLimiting.AddressPartition(null).Should().Be("unknown");
    }
}
