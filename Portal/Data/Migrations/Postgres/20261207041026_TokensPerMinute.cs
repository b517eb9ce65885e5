using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Postgres
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
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "TokensPerMinute",
                table: "ApiKeys",
                type: "integer",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "TokenLimitBuckets",
                columns: table => new
                {
                    KeyId = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    ModelId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    FullAt = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TokenLimitBuckets", x => new { x.KeyId, x.ModelId });
                    table.ForeignKey(
                        name: "FK_TokenLimitBuckets_ApiKeys_KeyId",
                        column: x => x.KeyId,
                        principalTable: "ApiKeys",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                })
                .Annotation("Npgsql:UnloggedTable", true);

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
            migrationBuilder.DropTable(
                name: "TokenLimitBuckets");

            migrationBuilder.DropColumn(
                name: "TokensPerMinute",
                table: "Models");

            migrationBuilder.DropColumn(
                name: "TokensPerMinute",
                table: "ApiKeys");
        }
    }
}
