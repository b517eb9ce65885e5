using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class CachedPricesAndEndUsers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "CachedInputPriceMicros",
                table: "UsageRecords",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            // Before cached-input prices, cached tokens were billed at the input price: that is the price the old records used.
            migrationBuilder.Sql("""UPDATE "UsageRecords" SET "CachedInputPriceMicros" = "InputPriceMicros";""");

            migrationBuilder.AddColumn<string>(
                name: "EndUser",
                table: "UsageRecords",
                type: "TEXT",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "CachedInputPriceMicros",
                table: "Models",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.UpdateData(
                table: "Models",
                keyColumn: "Id",
                keyValue: "deepseek-r1",
                column: "CachedInputPriceMicros",
                value: null);

            migrationBuilder.UpdateData(
                table: "Models",
                keyColumn: "Id",
                keyValue: "glm-5",
                column: "CachedInputPriceMicros",
                value: null);

            migrationBuilder.UpdateData(
                table: "Models",
                keyColumn: "Id",
                keyValue: "glm-5.2",
                column: "CachedInputPriceMicros",
                value: null);

            migrationBuilder.UpdateData(
                table: "Models",
                keyColumn: "Id",
                keyValue: "kimi-k2",
                column: "CachedInputPriceMicros",
                value: null);

            migrationBuilder.CreateIndex(
                name: "IX_UsageRecords_UserId_EndUser_CreatedAt",
                table: "UsageRecords",
                columns: new[] { "UserId", "EndUser", "CreatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_UsageRecords_UserId_EndUser_CreatedAt",
                table: "UsageRecords");

            migrationBuilder.DropColumn(
                name: "CachedInputPriceMicros",
                table: "UsageRecords");

            migrationBuilder.DropColumn(
                name: "EndUser",
                table: "UsageRecords");

            migrationBuilder.DropColumn(
                name: "CachedInputPriceMicros",
                table: "Models");
        }
    }
}
