namespace RoomShare.RoomServer.Configuration;

/// <summary>
/// How the replica's process ends: 0, or 1 when it stopped itself because its settings cannot work (a
/// refusal learnt after start-up; one at start-up fails the start anyway). Program returns it after the
/// host has stopped, so a supervisor does not count such a stop a clean one; kept here rather than in
/// <see cref="Environment.ExitCode"/>, which in-process test hosts share with the test runner.
/// </summary>
public sealed class ReplicaExit
{
    private int _code;

    public int Code => Volatile.Read(ref _code);

    public void Refused() => Volatile.Write(ref _code, 1);
}
