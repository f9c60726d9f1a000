extern alias loadtool;

using FluentAssertions;
using loadtool::RoomShare.LoadTest.Profiles;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// What the load tool's <c>--arms</c> and <c>--scenarios</c> keep of a profile (<c>ArmSelection</c>): the named arms
/// in the order given, each with the named scenarios, and a clear refusal of unknown or repeated names.
/// </summary>
public sealed class LoadToolArmSelectionTests
{
    private static readonly ProfileSettings Full = Profiles.Get("full");

    [Fact]
    public void NoNamesKeepTheProfilesArmsAndScenarios()
    {
        var kept = ArmSelection.Apply(Full, [], []);

        kept.Arms.Should().Equal(Full.Arms);
    }

    [Fact]
    public void NamedArmsRunInTheGivenOrderWithTheNamedScenarios()
    {
        var kept = ArmSelection.Apply(Full, ["roomshare-2", "floor"], ["W3", "W1"]);

        kept.Arms.Select(a => a.Arm.Name).Should().Equal("roomshare-2", "floor");
        kept.Arms.Should().AllSatisfy(a => a.Scenarios.Should().Equal("W3", "W1"));
    }

    [Fact]
    public void ANamedArmWithoutScenariosRunsItsProfilesOrElseW1()
    {
        var kept = ArmSelection.Apply(Full, ["floor", "roomshare-2-webclient"], []);

        kept.Arms[0].Scenarios.Should().Equal("W1", "W3");
        kept.Arms[1].Scenarios.Should().Equal("W1");
    }

    [Fact]
    public void NamedScenariosAloneKeepTheProfilesArmsThatHaveThem()
    {
        var kept = ArmSelection.Apply(Full, [], ["W0"]);

        kept.Arms.Should().ContainSingle().Which.Arm.Name.Should().Be("roomshare-2");
    }

    [Theory]
    [InlineData("floor,roomshare-2,floor", "", "--arms: floor named more than once")]
    [InlineData("", "W1,W3,W1", "--scenarios: W1 named more than once")]
    [InlineData("bogus", "", "unknown arm 'bogus'")]
    [InlineData("", "W9", "unknown scenario 'W9'")]
    public void UnknownOrRepeatedNamesAreRefusedByName(string arms, string scenarios, string message)
    {
        var act = () => ArmSelection.Apply(Full, ArmSelection.Names([arms]), ArmSelection.Names([scenarios]));

        act.Should().Throw<ArgumentException>().WithMessage($"{message}*");
    }

    [Fact]
    public void NamesSplitCommasAcrossRepeatedOptionsAndDropBlanks()
    {
        ArmSelection.Names(["floor, roomshare-2", "embedded,,"]).Should().Equal("floor", "roomshare-2", "embedded");
        ArmSelection.Names(null).Should().BeEmpty();
    }
}
