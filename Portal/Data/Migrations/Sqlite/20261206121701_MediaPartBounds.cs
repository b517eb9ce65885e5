using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class MediaPartBounds : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Models an admin added get the same per-part bounds as the seeded ones (ADR 13), not 0.
            migrationBuilder.AddColumn<int>(
                name: "AudioPartTokens",
                table: "Models",
                type: "INTEGER",
                nullable: false,
                defaultValue: 100000);

            migrationBuilder.AddColumn<int>(
                name: "FilePartTokens",
                table: "Models",
                type: "INTEGER",
                nullable: false,
                defaultValue: 100000);

            migrationBuilder.AddColumn<int>(
                name: "ImagePartTokens",
                table: "Models",
                type: "INTEGER",
                nullable: false,
                defaultValue: 4096);

            migrationBuilder.AddColumn<int>(
                name: "VideoPartTokens",
                table: "Models",
                type: "INTEGER",
                nullable: false,
                defaultValue: 100000);

            migrationBuilder.UpdateData(
                table: "Models",
                keyColumn: "Id",
                keyValue: "deepseek-r1",
                columns: new[] { "AudioPartTokens", "FilePartTokens", "ImagePartTokens", "VideoPartTokens" },
                values: new object[] { 100000, 100000, 4096, 100000 });

            migrationBuilder.UpdateData(
                table: "Models",
                keyColumn: "Id",
                keyValue: "glm-5",
                columns: new[] { "AudioPartTokens", "FilePartTokens", "ImagePartTokens", "VideoPartTokens" },
                values: new object[] { 100000, 100000, 4096, 100000 });

            migrationBuilder.UpdateData(
                table: "Models",
                keyColumn: "Id",
                keyValue: "glm-5.2",
                columns: new[] { "AudioPartTokens", "FilePartTokens", "ImagePartTokens", "VideoPartTokens" },
                values: new object[] { 100000, 100000, 4096, 100000 });

            migrationBuilder.UpdateData(
                table: "Models",
                keyColumn: "Id",
                keyValue: "kimi-k2",
                columns: new[] { "AudioPartTokens", "FilePartTokens", "ImagePartTokens", "VideoPartTokens" },
                values: new object[] { 100000, 100000, 4096, 100000 });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "AudioPartTokens",
                table: "Models");

            migrationBuilder.DropColumn(
                name: "FilePartTokens",
                table: "Models");

            migrationBuilder.DropColumn(
                name: "ImagePartTokens",
                table: "Models");

            migrationBuilder.DropColumn(
                name: "VideoPartTokens",
                table: "Models");
        }
    }
}
