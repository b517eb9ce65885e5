using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class StructuredOutputs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "SupportsStructuredOutputs",
                table: "Models",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.UpdateData(
                table: "Models",
                keyColumn: "Id",
                keyValue: "deepseek-r1",
                column: "SupportsStructuredOutputs",
                value: false);

            migrationBuilder.UpdateData(
                table: "Models",
                keyColumn: "Id",
                keyValue: "glm-5",
                column: "SupportsStructuredOutputs",
                value: true);

            migrationBuilder.UpdateData(
                table: "Models",
                keyColumn: "Id",
                keyValue: "glm-5.2",
                column: "SupportsStructuredOutputs",
                value: true);

            migrationBuilder.UpdateData(
                table: "Models",
                keyColumn: "Id",
                keyValue: "kimi-k2",
                column: "SupportsStructuredOutputs",
                value: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "SupportsStructuredOutputs",
                table: "Models");
        }
    }
}
