using RoomShare.RoomServer.Fanout;
using RoomShare.RoomServer.Hubs;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>The fan-out sends by name; the hub's typed client declares the same names.</summary>
public sealed class RoomClientMethodsTests
{
    [Fact]
    public void EveryNameTheFanoutSendsIsAMethodOfTheTypedClient()
    {
        var names = typeof(RoomClientMethods).GetFields().Select(f => (string)f.GetRawConstantValue()!);
        names.Should().BeSubsetOf(typeof(IRoomClient).GetMethods().Select(m => m.Name));
    }
}
