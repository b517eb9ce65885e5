namespace Portal.Tests.Store;

/// <summary>
/// A test that needs a real PostgreSQL (<see cref="PostgresTestDatabase.Variable"/>). Skipped on a
/// developer machine without one; never skipped when <c>CI=true</c>, where a missing server must fail
/// the build rather than quietly drop the PostgreSQL coverage.
/// </summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!PostgresTestDatabase.TestsRun)
        {
            Skip = $"set {PostgresTestDatabase.Variable} to run";
        }
    }
}
