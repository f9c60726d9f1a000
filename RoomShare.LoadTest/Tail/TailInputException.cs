namespace RoomShare.LoadTest.Tail;

/// <summary>An input file of <c>tail</c> that cannot be read as what it claims to be; the message names file and line.</summary>
public sealed class TailInputException : Exception
{
    public TailInputException()
    {
    }

    public TailInputException(string message)
        : base(message)
    {
    }

    public TailInputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>"file:line: reason", one line, as compilers print it: the user can jump straight to it.</summary>
    public static TailInputException At(string path, int line, string reason) => new($"{path}:{line}: {reason}");
}
