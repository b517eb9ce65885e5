using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class TokensPerMinute : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "TokensPerMinute",
                table: "Models",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "TokensPerMinute",
                table: "ApiKeys",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.UpdateData(
                table: "Models",
                keyColumn: "Id",
                keyValue: "deepseek-r1",
                column: "TokensPerMinute",
                value: null);

            migrationBuilder.UpdateData(
                table: "Models",
                keyColumn: "Id",
                keyValue: "glm-5",
                column: "TokensPerMinute",
                value: null);

            migrationBuilder.UpdateData(
                table: "Models",
                keyColumn: "Id",
                keyValue: "glm-5.2",
                column: "TokensPerMinute",
                value: null);

            migrationBuilder.UpdateData(
                table: "Models",
                keyColumn: "Id",
                keyValue: "kimi-k2",
                column: "TokensPerMinute",
                value: null);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "TokensPerMinute",
                table: "Models");

            migrationBuilder.DropColumn(
                name: "TokensPerMinute",
                table: "ApiKeys");
        }
    }
}
