namespace Portal.Tests.Store;

/// <summary>A test class whose Portal runs on its own new PostgreSQL database (see <see cref="StoreAppTest"/>).</summary>
public abstract class PostgresAppTest : StoreAppTest
{
    protected sealed override bool OnPostgres => true;
}
